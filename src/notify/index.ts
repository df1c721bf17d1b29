import { EmailChannel } from "./email.js";
import { PagerDutyChannel } from "./pagerduty.js";
import { SlackChannel } from "./slack.js";
import { TeamsChannel } from "./teams.js";
import { TicketChannel } from "./ticket.js";
import type { Channel, ChannelConfig } from "./types.js";
import { WebhookChannel } from "./webhook.js";

export function makeChannel(config: ChannelConfig): Channel {
  switch (config.kind) {
    case "webhook":
      return new WebhookChannel(config);
    case "slack":
      return new SlackChannel(config);
    case "teams":
      return new TeamsChannel(config);
    case "email":
      return new EmailChannel(config);
    case "pagerduty":
      return new PagerDutyChannel(config);
    case "ticket":
      return new TicketChannel(config);
    default: {
      const unknown: never = config;
      throw new Error(`unknown channel kind: ${(unknown as { kind: string }).kind}`);
    }
  }
}
