// createSource(spec): builds (does not open) the EntropySource for a spec, with
// each kind's default path and quality. The daemon and `vrngd seed` both use it.
import { DEFAULT_HWRNG_PATH, DeviceSource } from './device-source';
import { EntropySource, SourceSpec } from './entropy-source';
import { RdrandSource } from './rdrand-source';
import { RndBinding } from '../native/binding';

/** hwrng and pipe data is credited at up to 8 bits/byte by default, as rngd does (-e lowers it). */
export const DEFAULT_DEVICE_QUALITY = 8;

export interface OpenSourceDeps {
  binding?: Pick<RndBinding, 'cpuRngSupport' | 'readCpuRng'>;
  childCommand?: string;
}

export function createSource(spec: SourceSpec, deps: OpenSourceDeps = {}): EntropySource {
  switch (spec.kind) {
    case 'rdrand':
      return new RdrandSource(deps.binding, spec.quality);
    case 'hwrng':
    case 'pipe':
      if (spec.kind === 'pipe' && !spec.path) throw new Error('pipe source needs a path');
      return new DeviceSource({
        name: spec.kind,
        kind: spec.kind,
        path: spec.path ?? DEFAULT_HWRNG_PATH,
        quality: spec.quality ?? DEFAULT_DEVICE_QUALITY,
        readChunkBytes: spec.readChunkBytes,
        childCommand: deps.childCommand,
      });
  }
}
