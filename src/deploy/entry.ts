import { recordSignals } from '../core/received-signals.ts';

// The bundle's entry (scripts/build.ts): a cancel that comes while the action loads is kept, not
// fatal (core/received-signals.ts). The action is a chunk of its own, loaded after this line.
recordSignals();
await import('./main.ts');
