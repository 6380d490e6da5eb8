// FifoReader hands out what was written, in order, whatever the sizes of the
// writer's chunks and of the reads (views of one chunk, or copies across chunks).
import { spawn, spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { FifoReader } from '../../src/sources/fifo-reader';

describe('FifoReader', () => {
  it('reads of 1..5,000 B across writer chunks of 1..70,000 B: the same bytes in the same order', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-fifo-'));
    const fifo = path.join(dir, 'f');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const data = randomBytes(600_000);
    const reader = new FifoReader(fifo, 16384);
    reader.open();
    // a child writes (a blocking writer in this thread would deadlock), in chunks of varied sizes with pauses
    fs.writeFileSync(path.join(dir, 'data'), data);
    const script = `const fs=require('fs');const d=fs.readFileSync(process.argv[1]);const w=fs.openSync(process.argv[2],'w');
      const sizes=[1,7,2500,65536,70000,333];let at=0,i=0;
      (function next(){if(at>=d.length){fs.closeSync(w);return;}const n=Math.min(d.length-at,sizes[i++%6]);fs.writeSync(w,d,at,n);at+=n;setTimeout(next,i%50===0?5:0);})();`;
    const child = spawn(process.execPath, ['-e', script, path.join(dir, 'data'), fifo], { stdio: 'ignore' });
    const writer = new Promise((r) => child.on('exit', r));
    const got: Buffer[] = [];
    let total = 0;
    for (let i = 0; ; i++) {
      const b = await reader.read([2500, 1, 5000, 64, 4096, 2499][i % 6] as number);
      if (b.length === 0) break;
      got.push(Buffer.from(b));
      total += b.length;
    }
    await writer;
    reader.close();
    expect(total).toBe(data.length);
    expect(Buffer.concat(got).equals(data)).toBe(true);
  });
});
