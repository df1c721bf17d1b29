import type { HistoryProgress } from "../replay/history.js";

/** A progress line on stderr when it is a terminal; silent otherwise (CI logs stay clean). */
export function progressBar(label: string): { update: (p: HistoryProgress) => void; done: () => void } {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  return {
    update(p) {
      if (!tty) return;
      const pct = p.bytesTotal > 0 ? Math.min(100, (100 * p.bytesRead) / p.bytesTotal) : 0;
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      const now = Date.now();
      if (now - last < 100 && pct < 100) return;
      last = now;
      process.stderr.write(
        `\r${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${pct.toFixed(0).padStart(3)}%  ${p.events.toLocaleString("en")} events  ${p.file}`,
      );
    },
    done() {
      if (tty) process.stderr.write("\n");
    },
  };
}
