// The vovc API from src/ in the shape the fuzz oracle (fuzz/oracle.mjs) takes it.
import { VovcError, formatDiagnostic, formatDiagnostics } from '../../src/diag/diagnostics.js';
import { loadModel, zooNames } from '../../src/dsl/zoo.js';
import { verify } from '../../src/ir/verify.js';
import { lowerSpec } from '../../src/model/lower.js';
import { findNonFinite, loadCheckpoint } from '../../src/weights/checkpoint.js';
import { bindCheckpoint } from '../../src/weights/mapping.js';

export const api = { loadModel, zooNames, lowerSpec, verify, VovcError, formatDiagnostic, formatDiagnostics, loadCheckpoint, findNonFinite, bindCheckpoint };

/** fast-check seed: fixed so that CI is reproducible; FUZZ_SEED=n explores others. */
export const SEED = Number(process.env.FUZZ_SEED ?? 20240601);
