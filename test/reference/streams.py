# graph-run's seeded random streams (runtime/ops/random.ts, docs/init.md) reimplemented in
# Python from the documentation: Threefry-2x32-20, named streams, 53-bit uniforms, Box-Muller
# normals, per-epoch Fisher-Yates shuffles and dropout masks. Used by the reference scripts.
import math

import numpy as np

M32 = 0xFFFFFFFF


def threefry2x32(k0, k1, c0, c1):
    rot = [13, 15, 26, 6, 17, 29, 16, 24]
    ks = [k0 & M32, k1 & M32, (0x1BD11BDA ^ k0 ^ k1) & M32]
    x0, x1 = (c0 + ks[0]) & M32, (c1 + ks[1]) & M32
    for block in range(5):
        base = 0 if block % 2 == 0 else 4
        for r in range(4):
            x0 = (x0 + x1) & M32
            s = rot[base + r]
            x1 = ((x1 << s) | (x1 >> (32 - s))) & M32
            x1 ^= x0
        i = block + 1
        x0 = (x0 + ks[i % 3]) & M32
        x1 = (x1 + ks[(i + 1) % 3] + i) & M32
    return x0, x1


def fnv1a32(s):
    h = 0x811C9DC5
    for ch in s:  # ASCII names: one UTF-16 unit per character
        h ^= ord(ch)
        h = (h * 0x01000193) & M32
    return h


class Stream:
    def __init__(self, seed, name):
        self.k0, self.k1 = seed & M32, fnv1a32(name)

    def uniform(self, i, j):
        a, b = threefry2x32(self.k0, self.k1, i, j)
        return ((a >> 5) * 67108864 + (b >> 6)) / 9007199254740992.0


def shuffled_order(seed, n, epoch):
    s = Stream(seed, 'shuffle')
    out = list(range(n))
    for i in range(n - 1, 0, -1):
        j = math.floor(s.uniform(i, epoch) * (i + 1))
        out[i], out[j] = out[j], out[i]
    return out


def dropout_mask(seed, node, p, step, n):
    s = Stream(seed, 'dropout:' + node)
    return np.array([1.0 if s.uniform(i, step) < 1 - p else 0.0 for i in range(n)])


def normal(s, i):
    u1 = 1 - s.uniform(i, 1)
    u2 = s.uniform(i, 2)
    return math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)
