// Checkpoints in a training run (--save, --save-every, --resume, --load): --resume / --load read
// one before training (errors stop the run before it starts, the session untouched), --save
// checks its path up front and is written atomically at the end and every --save-every epochs.
// The checkpoint format is the library's (checkpointBytes / restoreCheckpoint); the files are ours.

import { checkpointBytes, type LossRecord, restoreCheckpoint, type Session, UsageError } from '../index.js';
import { ensureWritable, readCheckpointFile, writeFileAtomic } from './files.js';

export interface CheckpointFlags {
  save?: string;
  saveEvery?: number;
  resume?: string;
  load?: string;
}

export interface CheckpointRun {
  /** First epoch to train (the resumed position, else 0). */
  from: number;
  /** --load: parameters only, for prediction; the run does not train. */
  predictOnly: boolean;
  /** Every loss logged so far, the resumed history included. */
  losses: LossRecord[];
  onLog(r: LossRecord): void;
  onEpoch(epoch: number): void;
  /** Write the final checkpoint (if --save); `epochs` is the position reached. */
  finish(epochs: number): void;
}

/** The checkpoint flags' usage errors and the --save path: checked before any device is acquired. */
export function checkCheckpointFlags(flags: CheckpointFlags): void {
  if (flags.resume && flags.load)
    throw new UsageError('--resume continues training and --load only predicts: give one of them');
  if (flags.saveEvery !== undefined && !flags.save) throw new UsageError('--save-every needs --save FILE');
  if (flags.save) ensureWritable(flags.save, 'checkpoint');
}

/** Open a run's checkpoints (flags checked by checkCheckpointFlags): load --resume / --load before any training. */
export function openCheckpoints(session: Session, flags: CheckpointFlags, note: (s: string) => void): CheckpointRun {
  let from = 0;
  let losses: LossRecord[] = [];
  const src = flags.resume ?? flags.load;
  if (src) {
    const pos = restoreCheckpoint(session, readCheckpointFile(src), {
      resume: flags.resume !== undefined,
      file: src,
    });
    if (flags.resume && pos) {
      from = pos.epoch;
      losses = [...pos.losses];
      note(`resumed ${src} at epoch ${from}`);
    } else {
      note(`loaded parameters from ${src}`);
    }
  }
  const save = (epoch: number) => {
    if (!flags.save) return;
    writeFileAtomic(
      flags.save,
      checkpointBytes(session, session.model.training ? { epoch, losses } : undefined),
      'checkpoint',
    );
  };
  return {
    from,
    predictOnly: flags.load !== undefined,
    losses,
    onLog: (r) => losses.push(r),
    onEpoch: (epoch) => {
      if (flags.saveEvery && (epoch + 1) % flags.saveEvery === 0) save(epoch + 1);
    },
    finish: (epochs) => {
      save(Math.max(from, epochs));
      if (flags.save) note(`saved ${flags.save}${session.model.training ? ` (epoch ${Math.max(from, epochs)})` : ''}`);
    },
  };
}
