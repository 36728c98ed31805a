import { expect } from 'vitest';
import { VovcError } from '../../../src/diag/diagnostics.js';

/** The message of the VovcError that `f` throws; fails the test for any other outcome or a multi-line message. */
export function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(VovcError);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('expected a VovcError');
}
