// An interrupted build (SIGINT / SIGTERM while building vovnet57 with its 147 MB of weights
// to ONNX) leaves no partial artifact and no staging folder: DIR stays as it was.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readlinkSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/dsl/zoo.js';
import { lowerSpec } from '../../src/model/lower.js';
import { REPO } from '../helpers/fixtures.js';
import { leftovers, snapshot, tempDir } from './util.js';

const root = tempDir('interrupt');
const weights = join(root, 'vovnet57.safetensors');
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A vovnet57 checkpoint of zeros under the canonical (timm) names, streamed to disk. */
beforeAll(() => {
  const g = lowerSpec(loadModel('vovnet57').spec);
  const header: Record<string, unknown> = {};
  let size = 0;
  for (const [name, p] of g.params) {
    const bytes = 4 * p.shape.reduce((a, d) => a * d, 1);
    header[name] = { dtype: 'F32', shape: p.shape, data_offsets: [size, size + bytes] };
    size += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const fd = openSync(weights, 'w');
  writeSync(fd, len);
  writeSync(fd, json);
  const zeros = Buffer.alloc(4 << 20);
  for (let left = size; left > 0; left -= zeros.length) writeSync(fd, zeros, 0, Math.min(left, zeros.length));
  closeSync(fd);
});

let n = 0;
/**
 * Starts the build into a DIR holding a file of the user and an older artifact, sends
 * `signal` when `when(parent)` first holds (polled every 5 ms), and returns how it ended.
 */
function interrupt(signal: NodeJS.Signals, when: (parent: string, pid: number) => boolean) {
  const parent = join(root, String(n++));
  const out = join(parent, 'out');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'notes.txt'), 'mine\n');
  writeFileSync(join(out, 'vovnet57.onnx'), 'an older build\n');
  const before = snapshot(out);
  const args = [join(REPO, 'dist/cli/vovc.js'), 'build', 'vovnet57', '--target', 'onnx', '--weights', weights, '--weights-format', 'timm', '--out', out, '--quiet'];
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; sent: boolean; before: typeof before; after: typeof before; leftovers: string[] }>((res) => {
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let sent = false;
    const poll = setInterval(() => {
      if (!sent && p.exitCode === null && p.pid !== undefined && when(parent, p.pid)) {
        sent = p.kill(signal);
        clearInterval(poll);
      }
    }, 5);
    p.on('close', (code, sig) => {
      clearInterval(poll);
      res({ code, signal: sig, sent, before, after: snapshot(out), leftovers: leftovers(parent) });
    });
  });
}

const staging = (parent: string) => readdirSync(parent).some((f) => f.includes('.vovc-staging-'));

describe('an interrupted vovnet57 build', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s while the backend writes into the staging folder: exit 130, DIR untouched, no staging folder', async (signal) => {
    const r = await interrupt(signal, staging);
    expect(r.sent).toBe(true);
    expect(r.code).toBe(130);
    expect(r.after).toEqual(r.before);
    expect(r.leftovers).toEqual([]);
  });

  it('SIGINT while the checkpoint is being read (before any staging folder): DIR untouched', async () => {
    // The moment: the child holds the checkpoint open (/proc/PID/fd), i.e. it is loading, on a
    // fast machine or a slow one (a fixed delay let a quiet machine finish the build first).
    // Before the build installs its handler the default action ends the process; either way
    // what matters is what it leaves.
    const reading = (_: string, pid: number) => {
      try {
        return readdirSync(`/proc/${pid}/fd`).some((fd) => {
          try {
            return readlinkSync(`/proc/${pid}/fd/${fd}`) === weights;
          } catch {
            return false;
          }
        });
      } catch {
        return false;
      }
    };
    const r = await interrupt('SIGINT', reading);
    expect(r.sent).toBe(true);
    expect(r.code === 130 || r.signal === 'SIGINT').toBe(true);
    expect(r.after).toEqual(r.before);
    expect(r.leftovers).toEqual([]);
  });
});
