// The state file: atomic replace, no temp file left after a failed write, stale
// temp files of dead writers removed, unreadable files read as null.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DaemonState, pidAlive, readStateFile, removeStaleTempFiles, writeStateFile } from '../../src/daemon/state-file';

const state = (bits: number): DaemonState => ({
  pid: process.pid,
  startedAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:01.000Z',
  regime: 'legacy',
  mode: 'feeding',
  bitsCredited: bits,
  bytesInjected: bits / 8,
  injections: 1,
  entropyBeforeBits: 100,
  entropyAfterBits: 3000,
  sources: [],
  fipsFailures: { monobit: 0, poker: 0, runs: 0, longRun: 0, continuousRun: 0 },
});

let dir = '';
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-state-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('state file', () => {
  it('replaces the file whole and reads it back', () => {
    const file = path.join(dir, 'state.json');
    writeStateFile(file, state(512));
    writeStateFile(file, state(1024));
    expect(readStateFile(file)?.bitsCredited).toBe(1024);
    expect(fs.readdirSync(dir)).toEqual(['state.json']);
  });

  it('leaves no temp file when the write fails', () => {
    const file = path.join(dir, 'state.json');
    fs.mkdirSync(file); // rename onto a directory fails with EISDIR
    expect(() => writeStateFile(file, state(8))).toThrow();
    expect(fs.readdirSync(dir)).toEqual(['state.json']);
  });

  it('removes temp files of dead writers, keeps a live writer\'s', () => {
    const file = path.join(dir, 'state.json');
    let dead = 999999;
    while (pidAlive(dead)) dead--;
    fs.writeFileSync(path.join(dir, `.state.json.${dead}.tmp`), '{"pid":');
    fs.writeFileSync(path.join(dir, `.state.json.${process.pid}.tmp`), '{}');
    fs.writeFileSync(path.join(dir, 'other.txt'), 'x');
    removeStaleTempFiles(file);
    expect(fs.readdirSync(dir).sort()).toEqual([`.state.json.${process.pid}.tmp`, 'other.txt']);
  });

  it('reads an absent or torn file as null', () => {
    expect(readStateFile(path.join(dir, 'none.json'))).toBeNull();
    fs.writeFileSync(path.join(dir, 'torn.json'), '{"pid": 12');
    expect(readStateFile(path.join(dir, 'torn.json'))).toBeNull();
  });
});
