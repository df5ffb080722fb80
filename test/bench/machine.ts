/** What the machine is, and how busy it was while a scenario ran (other work on it skews figures). */
import { readFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  os: string;
  node: string;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  let os = "linux";
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync("/etc/os-release", "utf8"));
    if (pretty?.[1]) os = pretty[1];
  } catch {
    // not every machine has it
  }
  return {
    cpuModel: list[0]?.model.trim() ?? "unknown",
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    os,
    node: process.version,
  };
}

export function loadAverage(): number[] {
  return loadavg().map((l) => Math.round(l * 100) / 100);
}

/** Busy and total CPU ticks of the whole machine, from /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  return { busy: total - idle - iowait, total };
}

export interface CpuWindow {
  /** Average busy cores of the whole machine over the window. */
  machineBusyCores: number;
  /** Cores used by this process (the bench, with the load generator in it). */
  benchCores: number;
}

/** Starts measuring; the returned function ends the window. */
export function cpuWindow(): () => CpuWindow {
  const started = process.hrtime.bigint();
  const ticks = machineTicks();
  const usage = process.cpuUsage();
  const cores = cpus().length;
  return () => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const after = machineTicks();
    const used = process.cpuUsage(usage);
    const share = (after.busy - ticks.busy) / Math.max(1, after.total - ticks.total);
    return {
      machineBusyCores: round2(share * cores),
      benchCores: round2((used.user + used.system) / 1e6 / seconds),
    };
  };
}

export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
