// The repeat memory in C (src/native/repeat.c): the same algorithm and verdicts
// as core/repeat-memory.ts (the reference, and the unit tests' memory), at C
// speed, for the daemon's feed path. Injected by daemon/compose.ts (core never
// imports native). test/native/repeat-agreement.test.ts holds the two to the
// same verdicts.
import type { RepeatCheck } from '../core/repeat-memory';
import { loadBinding, RepeatHandle, RndBinding } from './binding';

export class NativeRepeatMemory implements RepeatCheck {
  private readonly handle: RepeatHandle;
  private readonly binding: RndBinding;

  constructor(blockBytes = 2500, binding: RndBinding = loadBinding()) {
    this.binding = binding;
    this.handle = binding.repeatCreate(blockBytes);
  }

  seen(block: Uint8Array, offset = 0): boolean {
    return this.binding.repeatSeen(this.handle, block, offset);
  }
}
