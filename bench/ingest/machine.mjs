import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

const CLK_TCK = 100;

/**
 * CPU seconds the whole machine has been busy (all cores, not idle or waiting on I/O). The bench
 * shares its cores with the server and with anything else running, so a run records how much
 * CPU the rest of the machine used: a figure taken under foreign load is not comparable.
 */
export function machineBusySeconds() {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0];
  // cpu  user nice system idle iowait irq softirq steal ...
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) / CLK_TCK;
}

/**
 * Waits until the machine, minus `ownCpu()` (the bench and its server), stays below `maxCores`
 * of CPU for one second, or until `maxWaitMs` passed. Returns the last measured foreign load.
 */
export async function waitForQuiet(ownCpu, maxCores, maxWaitMs) {
  const until = Date.now() + maxWaitMs;
  let load = 0;
  for (;;) {
    const m0 = machineBusySeconds();
    const o0 = ownCpu();
    await sleep(1000);
    load = machineBusySeconds() - m0 - (ownCpu() - o0);
    if (load < maxCores || Date.now() >= until) return load;
  }
}
