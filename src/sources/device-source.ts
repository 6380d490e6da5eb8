// The hwrng and pipe sources: any path, read with the mechanism its file type
// allows without ever blocking the daemon process. Character devices go through
// a killable dd child (child-reader.ts), FIFOs through a non-blocking stream
// (fifo-reader.ts), regular files through fs (file-reader.ts). The file type is
// taken from stat(2), which never blocks.
import * as fs from 'fs';
import { fromNativeError } from '../kernel/errors';
import { ChildReader } from './child-reader';
import { CLOSED, EntropySource, SourceKind } from './entropy-source';
import { FifoReader } from './fifo-reader';
import { FileReader } from './file-reader';
import { sourceError } from './source-error';

export const DEFAULT_HWRNG_PATH = '/dev/hwrng';
/** Blocking read(2) size on devices: within 64..512 so a killed read loses little. */
export const DEFAULT_READ_CHUNK_BYTES = 500;

interface Reader {
  read(bytes: number): Promise<Uint8Array>;
  close(): void;
}

export type DeviceFileType = 'char' | 'fifo' | 'file';

export interface DeviceSourceOptions {
  name: string;
  kind: SourceKind;
  path: string;
  quality: number;
  readChunkBytes?: number;
  /** Reader program for character devices (tests); default dd. */
  childCommand?: string;
}

export class DeviceSource implements EntropySource {
  readonly name: string;
  readonly kind: SourceKind;
  readonly path: string;
  readonly quality: number;
  private reader: Reader | null = null;
  private fileTypeSeen: DeviceFileType | null = null;

  constructor(private readonly opts: DeviceSourceOptions) {
    this.name = opts.name;
    this.kind = opts.kind;
    this.path = opts.path;
    this.quality = opts.quality;
  }

  /** The file type found by the last open(), null before. */
  get fileType(): DeviceFileType | null {
    return this.fileTypeSeen;
  }

  async open(): Promise<void> {
    this.close();
    let st: fs.Stats;
    try {
      st = fs.statSync(this.path);
    } catch (e: unknown) {
      throw fromNativeError(e);
    }
    if (st.isFIFO()) {
      const r = new FifoReader(this.path);
      wrapOpen(() => r.open());
      this.reader = r;
      this.fileTypeSeen = 'fifo';
    } else if (st.isFile()) {
      const r = new FileReader(this.path);
      wrapOpen(() => r.open());
      this.reader = r;
      this.fileTypeSeen = 'file';
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      // open(2) of /dev/hwrng does not wait for the host; check permission and
      // presence here (ENODEV on el6 after unplug), read only in the child.
      wrapOpen(() => fs.closeSync(fs.openSync(this.path, 'r')));
      this.reader = new ChildReader({ path: this.path, readChunkBytes: this.opts.readChunkBytes ?? DEFAULT_READ_CHUNK_BYTES, command: this.opts.childCommand });
      this.fileTypeSeen = 'char';
    } else {
      throw sourceError('EINVAL', `${this.path}: not a device, FIFO or file`, 'open');
    }
  }

  read(bytes: number): Promise<Uint8Array> {
    if (!this.reader) return Promise.reject(sourceError(CLOSED, `${this.path}: not open`));
    return this.reader.read(bytes);
  }

  close(): void {
    const r = this.reader;
    this.reader = null;
    r?.close();
  }
}

function wrapOpen(fn: () => void): void {
  try {
    fn();
  } catch (e: unknown) {
    throw fromNativeError(e);
  }
}
