# A small torch nn.TransformerEncoder over Fashion-MNIST rows (28 tokens x 28 features: Linear(28->32) + learned positions,
# 2 pre-norm layers of 4 heads, FFN 64 with GELU, mean, LayerNorm, Linear(32->10)), trained 400 steps of 64 images on the
# first 20,000 training images (seeded; about 3 minutes on one busy core), exported at opset 17 (LayerNormalization,
# torch's packed-QKV attention) to the path given (default /tmp/encoder_o17.onnx) -- for int8-float-drift.mjs (s20).
#   /usr/bin/python3 tools/bench/tflite/make-fashion-encoder.py /tmp/enc/encoder_o17.onnx
import gzip, sys, numpy as np, torch, warnings
torch.manual_seed(0); torch.set_num_threads(1)
def idx(path):
    with gzip.open(path) as f: data = f.read()
    dims = data[3]; shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], 'big') for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)
root = '/usr/share/datasets/fashion-mnist/'
x = torch.tensor(idx(root + 'train-images-idx3-ubyte.gz')[:20000], dtype=torch.float32) / 255
y = torch.tensor(idx(root + 'train-labels-idx1-ubyte.gz')[:20000], dtype=torch.long)
class Enc(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.inp = torch.nn.Linear(28, 32)
        s.pos = torch.nn.Parameter(torch.randn(28, 32) * 0.02)
        layer = torch.nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True, norm_first=True, activation='gelu')
        s.enc = torch.nn.TransformerEncoder(layer, 2)
        s.norm = torch.nn.LayerNorm(32)
        s.head = torch.nn.Linear(32, 10)
    def forward(s, image):
        return s.head(s.norm(s.enc(s.inp(image) + s.pos).mean(1)))
m = Enc(); opt = torch.optim.Adam(m.parameters(), 1e-3)
for step in range(400):
    i = torch.randint(0, len(x), (64,))
    loss = torch.nn.functional.cross_entropy(m(x[i]), y[i])
    opt.zero_grad(); loss.backward(); opt.step()
    if step % 50 == 0: print(step, float(loss), flush=True)
m.eval()
with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    torch.onnx.export(m, (x[:2],), sys.argv[1] if len(sys.argv) > 1 else '/tmp/encoder_o17.onnx', opset_version=17, input_names=['input'], output_names=['logits'], dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}})
print('written')
