# Writes the binary data fixtures of test/data/ with NumPy (the reference writer) and the values
# each holds to test/data/fixtures/expected.json. Run: /work/venv-ops/bin/python test/reference/data_files.py
import gzip, json, os, struct
import numpy as np

out = os.path.join(os.path.dirname(__file__), '..', 'data', 'fixtures')
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(7)
x = rng.normal(size=(6, 2, 2)).astype(np.float32)
y = np.array([0, 2, 1, 1, 0, 2], dtype=np.int64)
img = rng.integers(0, 256, size=(6, 2, 2), dtype=np.uint8)

np.save(os.path.join(out, 'x.npy'), x)
np.save(os.path.join(out, 'y.npy'), y)
np.save(os.path.join(out, 'x_be_f8.npy'), x.astype('>f8'))
np.save(os.path.join(out, 'x_f16.npy'), x.astype(np.float16))
np.save(os.path.join(out, 'img.npy'), img)
np.save(os.path.join(out, 'y_float.npy'), y.astype(np.float32))
np.savez(os.path.join(out, 'train.npz'), x_train=x, y_train=y)
np.savez_compressed(os.path.join(out, 'train_c.npz'), x_train=x, y_train=y)

def safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, (dt, a) in tensors.items():
        b = a.tobytes()
        header[name] = {'dtype': dt, 'shape': list(a.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b); off += len(b)
    h = json.dumps(header).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h))); f.write(h)
        for b in blobs: f.write(b)

safetensors(os.path.join(out, 'train.safetensors'), {'x_train': ('F32', x), 'y_train': ('I64', y)})

def idx(path, a, code):
    data = struct.pack('>BBBB', 0, 0, code, a.ndim) + b''.join(struct.pack('>I', d) for d in a.shape)
    data += a.astype(a.dtype.newbyteorder('>')).tobytes()
    if path.endswith('.gz'):
        with gzip.open(path, 'wb') as f: f.write(data)
    else:
        with open(path, 'wb') as f: f.write(data)

idx(os.path.join(out, 'images-idx3-ubyte'), img, 0x08)
idx(os.path.join(out, 'images-idx3-ubyte.gz'), img, 0x08)
idx(os.path.join(out, 'labels-idx1-ubyte.gz'), y.astype(np.uint8), 0x08)
idx(os.path.join(out, 'x.idx'), x, 0x0D)

json.dump({
    'x': x.reshape(6, -1).tolist(),
    'x_f16': x.astype(np.float16).astype(np.float32).reshape(6, -1).tolist(),
    'y': y.tolist(),
    'img': img.reshape(6, -1).tolist(),
}, open(os.path.join(out, 'expected.json'), 'w'), indent=1)
