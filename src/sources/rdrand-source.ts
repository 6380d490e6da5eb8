// The CPU's RDSEED/RDRAND through the addon, where CPUID reports them (absent
// elsewhere, including every non-x86_64 machine).
//
// Quality, and why it is below 8: RDRAND is the output of a DRBG (CTR_DRBG) that
// the CPU reseeds from its conditioned noise source at most every 511 128-bit
// outputs, so a byte of it carries far less than 8 bits of fresh entropy; RDSEED
// is meant to be seed-grade but it is an opaque, unverifiable part of the same
// chip. Default credit: 4 bits/byte from RDSEED, 1 bit/byte from RDRAND only.
// The kernel already mixes RDRAND/RDSEED into every reseed itself, which is why
// this source is not enabled by default (enable it with -n rdrand).
import { loadBinding, RndBinding } from '../native/binding';
import { EntropySource } from './entropy-source';
import { sourceError } from './source-error';

export const RDSEED_QUALITY = 4;
export const RDRAND_QUALITY = 1;

export class RdrandSource implements EntropySource {
  readonly name = 'rdrand';
  readonly kind = 'rdrand' as const;
  readonly path: string;
  readonly quality: number;
  private readonly useRdseed: boolean;
  private readonly supported: boolean;
  private isOpen = false;

  constructor(private readonly binding: Pick<RndBinding, 'cpuRngSupport' | 'readCpuRng'> = loadBinding(), quality?: number) {
    const support = binding.cpuRngSupport();
    this.supported = support.rdrand || support.rdseed;
    this.useRdseed = support.rdseed;
    this.path = support.rdseed ? 'cpu:rdseed' : support.rdrand ? 'cpu:rdrand' : 'cpu:none';
    this.quality = quality ?? (support.rdseed ? RDSEED_QUALITY : RDRAND_QUALITY);
  }

  get available(): boolean {
    return this.supported;
  }

  async open(): Promise<void> {
    if (!this.supported) throw sourceError('ENOTSUP', 'CPUID reports neither RDSEED nor RDRAND', 'cpuid');
    this.isOpen = true;
  }

  async read(bytes: number): Promise<Uint8Array> {
    if (!this.isOpen) throw sourceError('ECLOSED', 'rdrand: not open');
    const data = new Uint8Array(bytes);
    const n = this.binding.readCpuRng(data, this.useRdseed);
    if (n <= 0) throw sourceError('EAGAIN', `rdrand: the CPU returned no data (${this.useRdseed ? 'RDSEED' : 'RDRAND'} kept failing)`);
    return data.subarray(0, n);
  }

  close(): void {
    this.isOpen = false;
  }
}
