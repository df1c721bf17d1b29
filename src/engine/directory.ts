import type { Config } from "../config/types.js";
import { onCallAt } from "../core/oncall/schedule.js";
import type { Directory } from "./escalation.js";

/** The Directory an escalation reads, answered from the (current) configuration. */
export function configDirectory(config: Config): Directory {
  return {
    chain: (name) => config.chains.get(name),
    teamChain: (team) => (team === null ? null : (config.teams.get(team)?.chain ?? null)),
    teamChannel: (team) => (team === null ? null : (config.teams.get(team)?.channel ?? null)),
    onCall: (schedule, at) => {
      const s = config.schedules.get(schedule);
      return s === undefined ? null : onCallAt(s, at).user;
    },
    user: (name) => {
      const u = config.users.get(name);
      return u === undefined
        ? undefined
        : { user: u.name, email: u.email, slack: u.slack, phone: u.phone, webhook: u.webhook };
    },
    channel: (name) => config.channels.get(name),
    mailChannel: () => config.mailChannel,
    playbook: (name) => config.playbooks.get(name),
  };
}
