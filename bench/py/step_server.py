"""The pipe protocol of bench/python.ts for a training step timed against graph-run's: a few
warm-up steps; then, with --alone, the median of 30 steps printed on its own; otherwise 'ready',
then one step and 'ok' per 'step' line read from stdin, until any other line."""
import sys
import time


def serve(step, torch):
    for _ in range(3):
        step()
    if '--alone' in sys.argv:
        times = []
        for _ in range(30):
            t0 = time.perf_counter()
            step()
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        print(f'{times[len(times) // 2]:.3f} ms per step (median of 30), torch {torch.__version__}, '
              f'{torch.get_num_threads()} threads')
        return
    print('ready', flush=True)
    for line in sys.stdin:
        if line.strip() != 'step':
            break
        step()
        print('ok', flush=True)
