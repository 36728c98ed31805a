// A child process measured against the fuzz budgets: wall time, peak resident set, bytes
// written. The peak comes from GNU time (`/usr/bin/time -f %M`, the largest resident set of the
// process and of every descendant it waited for: the g++ of cuda-emu too) when it is there, else
// from polling the child's /proc/PID/status VmHWM (its own peak). The child runs in a process
// group of its own, so that a time-out kills it and everything it started.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const GNU_TIME = ['/usr/bin/time', '/bin/time'].find((p) => existsSync(p));
/** How the peak memory is measured, for the summary. */
export const MEMORY_METHOD = GNU_TIME ? `${GNU_TIME} -f %M` : '/proc/PID/status VmHWM, polled';
let serial = 0;

/** How much of stdout / stderr is kept (the sizes are always counted in full). */
const KEEP = 256 << 10;

/**
 * Runs `cmd args` with a wall-clock limit. Resolves { code, signal, timedOut, ms, stdout,
 * stderr, stdoutBytes, stderrBytes, maxRssBytes } (stdout / stderr: the first 256 KB). With
 * `readyLine`, the limit starts when the child prints that line (before, it has `startupMs`).
 */
export function spawnMeasured(cmd, args, { limitMs, env, cwd, readyLine, startupMs = 120_000 } = {}) {
  return new Promise((res) => {
    const rssFile = GNU_TIME ? join(tmpdir(), `vovc-fuzz-rss-${process.pid}-${serial++}`) : undefined;
    const t0 = performance.now();
    const p = GNU_TIME
      ? spawn(GNU_TIME, ['-o', rssFile, '-f', '%M', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env, cwd, detached: true })
      : spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env, cwd, detached: true });
    const out = { stdout: '', stderr: '', stdoutBytes: 0, stderrBytes: 0 };
    p.stdout.on('data', (d) => {
      out.stdoutBytes += d.length;
      if (out.stdout.length < KEEP) out.stdout += d;
      if (readyLine && !ready && out.stdout.includes(`${readyLine}\n`)) {
        ready = true;
        clearTimeout(timer);
        if (limitMs) timer = setTimeout(kill, limitMs);
      }
    });
    p.stderr.on('data', (d) => {
      out.stderrBytes += d.length;
      if (out.stderr.length < KEEP) out.stderr += d;
    });
    let polled = 0;
    const poll = GNU_TIME
      ? undefined
      : setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'));
            if (m) polled = Math.max(polled, Number(m[1]) * 1024);
          } catch {
            // the process has ended
          }
        }, 50);
    let timedOut = false;
    const kill = () => {
      timedOut = true;
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        p.kill('SIGKILL');
      }
    };
    let ready = false;
    let timer = readyLine ? setTimeout(kill, startupMs) : limitMs ? setTimeout(kill, limitMs) : undefined;
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(poll);
      let maxRssBytes = polled;
      if (rssFile) {
        try {
          // GNU time writes 'Command exited with non-zero status N' (or 'terminated by signal') before the number.
          const lines = readFileSync(rssFile, 'utf8').trim().split('\n');
          maxRssBytes = Number(lines[lines.length - 1]) * 1024 || 0;
        } catch {
          maxRssBytes = 0;
        }
        rmSync(rssFile, { force: true });
      }
      res({ code, signal, timedOut, ms: performance.now() - t0, maxRssBytes, ...out });
    });
  });
}
