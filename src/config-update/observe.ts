import { StepError } from '../core/errors.ts';
import { msg } from '../core/message.ts';
import { countsLine } from '../core/summary.ts';
import type { MachinesApi } from '../providers/fly/machines.ts';
import type { ConfigUpdateSettings, FlyTargetSettings } from './inputs.ts';
import { type SelectedTarget, selectFlyTargets, selectKamalTargets } from './targets.ts';

/** The read-only step: which targets exist. Fly lists the app's machines; Kamal's are the inputs. */

export interface Observed {
  selected: SelectedTarget[];
  /** Lines that explain the selection to the user. */
  notes: string[];
}

export async function observeTargets(
  settings: ConfigUpdateSettings,
  machinesFor: (fly: FlyTargetSettings) => Pick<MachinesApi, 'list'>,
): Promise<Observed> {
  const target = settings.target;
  if (target.kind === 'kamal') {
    return {
      selected: selectKamalTargets(target.urls, target.lines),
      notes: [`${target.urls.length} Kamal hosts from ${target.listedIn}`],
    };
  }
  let machines: Awaited<ReturnType<MachinesApi['list']>>;
  try {
    machines = await machinesFor(target).list();
  } catch (error) {
    throw new StepError('discover', msg`list the machines of Fly app ${target.app}`, error);
  }
  const selection = selectFlyTargets(machines, target.url, target);
  const filters = [
    target.regions.length > 0 ? `regions ${target.regions.join(', ')}` : undefined,
    target.processGroup !== undefined ? `process group ${target.processGroup}` : undefined,
  ].filter(Boolean);
  const states = countsLine(selection.selected.map((s) => s.target.state ?? 'unknown'));
  const note =
    `Fly app ${target.app}: ${selection.listed} machines listed` +
    (filters.length > 0 ? `, ${selection.selected.length} match ${filters.join(' and ')}` : '') +
    (states ? ` (${states})` : '');
  return { selected: selection.selected, notes: [note] };
}
