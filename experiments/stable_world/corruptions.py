"""MNIST-C's 15 corruptions (Mu and Gilmer 2019), in numpy and scipy, at one fixed severity each.

  x_c = corrupt("fog", x_NxHxWx1, seed=0)     # raw images in [0, 1], any side; float32 in [0, 1]
  digest(x_c)                                  # sha256 of the corrupted arrays, for results.json

Each follows google-research/mnist-c's corruptions.py at the severity its function defaults to (what
generators built on it call; we take it to be the severity of the published MNIST-C, which the
repository does not state apart from these defaults); PARAMETERS states each one. Draws come from
np.random.default_rng([seed, i]), i the corruption's place in NAMES, so a subset draws the same.
Lengths are MNIST-C's, in pixels of a 28x28 image; on another side they scale by side / 28, so a
translation or a line covers the same share of a 16x16 digit (per-pixel noise does not scale).
Where this is not MNIST-C's code:
  - glass blur blurs both axes (MNIST-C's skimage call with multichannel=True on a 2-D image blurs
    along one axis only);
  - motion blur is ImageMagick's kernel (one-sided Gaussian taps along a random angle) by bilinear
    sampling, with zero outside the image instead of ImageMagick's edge pixels (computed as one
    kernel per image, applied by FFT);
  - fog draws each image's plasma fractal from a pool of 64 (x 8 flips and rotations) instead of one
    new 256x256 fractal per image: a whole fractal per image would cost minutes;
  - canny edges is a plain version of Canny: Gaussian smoothing, Sobel gradients, non-maximum
    suppression along the gradient direction rounded to 0, 45, 90 or 135 degrees (skimage
    interpolates between neighbours), hysteresis between skimage's default thresholds 0.1 and 0.2.
"""
import hashlib

import numpy as np
from scipy import fft, ndimage

NAMES = ("shot_noise", "impulse_noise", "glass_blur", "motion_blur", "shear", "scale", "rotate",
         "brightness", "translate", "stripe", "fog", "spatter", "dotted_line", "zigzag", "canny_edges")
# MNIST-C's severity (1-5, its function's default; None: the corruption has no levels) and its parameter.
PARAMETERS = {
    "shot_noise": (5, "Poisson photon count: x -> Poisson(3x) / 3"),
    "impulse_noise": (4, "salt and pepper on 17% of pixels, half each"),
    "glass_blur": (1, "Gaussian sigma 0.7, 2 passes of swapping pixels up to 1 px apart, Gaussian again"),
    "motion_blur": (1, "ImageMagick radius 10, sigma 3, angle uniform in [-45, 45] degrees"),
    "shear": (2, "shear 0.4 rad, random sign, about the centre"),
    "scale": (3, "zoom out to 0.7x about the centre"),
    "rotate": (2, "rotation 0.4 rad (23 degrees), random sign, about the centre"),
    "brightness": (5, "HSV value + 0.5 (a grey image: x -> x + 0.5)"),
    "translate": (3, "3 px along each axis, random signs"),
    "stripe": (None, "invert the left and right quarters (columns 0-6 and 21-27)"),
    "fog": (5, "plasma fractal x 3.0, wibble decay 1.4, rescaled by max / (max + 3)"),
    "spatter": (4, "liquid N(0.65, 0.3) blurred sigma 1 over 0.65, mask blurred sigma 1.5 over 0.8, grey 63/255"),
    "dotted_line": (None, "one line edge to edge, 2.3 px wide, every other 2 px dash"),
    "zigzag": (None, "a zigzag of 2 px legs across columns 2-25 at a random row and slope"),
    "canny_edges": (None, "edges alone: Gaussian sigma 1, thresholds 0.1 / 0.2 (see the module docstring)"),
}
FOG_POOL = 64


def digest(x):
  """sha256 of an array's dtype, shape and bytes."""
  a = np.ascontiguousarray(x)
  return hashlib.sha256(f"{a.dtype}{a.shape}".encode() + a.tobytes()).hexdigest()


def corrupt(name, x_NxHxWx1, seed=0):
  """The corruption `name` of raw images in [0, 1] (N x H x W x 1), float32 clipped to [0, 1]."""
  if name not in PARAMETERS:
    raise ValueError(f"unknown corruption {name!r}; valid: {', '.join(NAMES)}")
  x = np.asarray(x_NxHxWx1, np.float32)
  if x.ndim != 4 or x.shape[-1] != 1:
    raise ValueError(f"corruptions take N x H x W x 1 images, not shape {x.shape}")
  rng = np.random.default_rng([seed, NAMES.index(name)])
  out = _FUNCTIONS[name](x[..., 0], rng, x.shape[1] / 28.0)
  return np.clip(out, 0.0, 1.0).astype(np.float32)[..., None]


# ----------------------------------------------------------------------------
# Helpers: Gaussian blur of each image, bilinear sampling, 28-pixel coordinates

def _blur(x_NxHxW, sigma):
  """skimage.filters.gaussian's defaults (edge pixels repeated, truncated at 4 sigma), per image."""
  return ndimage.gaussian_filter(x_NxHxW, (0, sigma, sigma), mode="nearest", truncate=4.0)


def _sample(x_NxHxW, rows, cols):
  """Bilinear samples at (rows, cols) (broadcast to N x H x W), zero outside the image."""
  n, h, w = x_NxHxW.shape
  # A zero border (1 before, 2 after) and coordinates clipped into it: no mask per sample.
  pad = np.pad(x_NxHxW.astype(np.float32), ((0, 0), (1, 2), (1, 2))).reshape(-1)
  rows = np.clip(np.broadcast_to(rows, x_NxHxW.shape).astype(np.float32), -1, h)
  cols = np.clip(np.broadcast_to(cols, x_NxHxW.shape).astype(np.float32), -1, w)
  r0, c0 = np.floor(rows), np.floor(cols)
  fr, fc = rows - r0, cols - c0
  top = ((np.arange(n, dtype=np.int64) * (h + 3))[:, None, None] + r0.astype(np.int64) + 1) * (w + 3) \
      + c0.astype(np.int64) + 1
  left = pad[top] * (1 - fc) + pad[top + 1] * fc
  right = pad[top + w + 3] * (1 - fc) + pad[top + w + 4] * fc
  return left * (1 - fr) + right * fr


def _affine(x_NxHxW, a_Nx2x2, t_Nx2=None):
  """skimage.transform.warp with inverse map p -> A p + t in (column, row) coordinates; t = None keeps
  the centre fixed (MNIST-C's 13.5 * (1 - a1 - a2) on a 28x28 image)."""
  n, h, w = x_NxHxW.shape
  centre = np.array([(w - 1) / 2, (h - 1) / 2])
  if t_Nx2 is None:
    t_Nx2 = centre - a_Nx2x2 @ centre
  rows, cols = np.mgrid[0:h, 0:w].astype(np.float32)
  a, t = (np.asarray(v, np.float32)[..., None, None] for v in (a_Nx2x2, t_Nx2))
  src_c = a[:, 0, 0] * cols + a[:, 0, 1] * rows + t[:, 0]
  src_r = a[:, 1, 0] * cols + a[:, 1, 1] * rows + t[:, 1]
  return _sample(x_NxHxW, src_r, src_c)


def _signs(rng, n):
  return rng.choice([-1.0, 1.0], n)


def _grid28(h, w):
  """Pixel centres of an h x w image in MNIST-C's 28-pixel coordinates (rows, cols), 1 x h x w."""
  u = lambda m: (np.arange(m) + 0.5) * 28.0 / m - 0.5
  rows, cols = np.meshgrid(u(h), u(w), indexing="ij")
  return rows[None].astype(np.float32), cols[None].astype(np.float32)


def _line(rows, cols, c0, r0, c1, r1):
  """MNIST-C's line_from_points for each image (c0... of shape N): intensity log(1 - d / 2.3) + 1 at
  vertical distance d from the line, zero outside columns [floor(c0), ceil(c1))."""
  c0, r0, c1, r1 = (np.asarray(v, np.float32)[:, None, None] for v in (c0, r0, c1, r1))
  same = c1 == c0
  m = (r1 - r0) / np.where(same, 1.0, c1 - c0)
  dist = np.clip(np.abs(rows - (m * (cols - c0) + r0)), 0, np.float32(2.3 - 1e-6))
  out = np.clip(np.log(np.float32(1) - dist / np.float32(2.3)) + 1, 0, 1)
  out[(cols < np.floor(c0)) | (cols >= np.ceil(c1)) | np.broadcast_to(same, out.shape)] = 0.0
  return out


# ----------------------------------------------------------------------------
# The corruptions: (x_NxHxW, rng, scale = side / 28) -> images (clipped by corrupt)

def _shot_noise(x, rng, s):
  return rng.poisson(x * 3.0) / 3.0


def _impulse_noise(x, rng, s):
  flipped, salt = rng.random(x.shape) < 0.17, rng.random(x.shape) < 0.5
  return np.where(flipped, salt.astype(np.float32), x)


def _glass_blur(x, rng, s):
  sigma, delta, passes = 0.7 * s, max(1, round(1 * s)), 2
  n, h, w = x.shape
  x = np.floor(_blur(x, sigma) * 255) / 255  # MNIST-C's uint8 between the blurs
  idx = np.arange(n)
  # MNIST-C's loop, one swap of every image at a time: a pixel swaps with probability 1/2 with one
  # offset by randint(-delta, delta) rows and columns (numpy's upper bound is exclusive, as there).
  for _ in range(passes):
    for i in range(h - delta, delta, -1):
      for j in range(w - delta, delta, -1):
        go = rng.random(n) < 0.5
        dy, dx = rng.integers(-delta, delta, n), rng.integers(-delta, delta, n)
        a, b = x[idx, i, j], x[idx, i + dy, j + dx]
        x[idx, i, j], x[idx, i + dy, j + dx] = np.where(go, b, a), np.where(go, a, b)
  return _blur(x, sigma)


def _motion_blur(x, rng, s):
  radius, sigma = 10, 3.0
  n = len(x)
  angle = np.deg2rad(rng.uniform(-45, 45, n))
  taps = np.arange(2 * radius + 1)
  weights = np.exp(-taps ** 2 / (2 * sigma ** 2))
  keep = weights > 1e-4 * weights.sum()  # taps beyond ~4 sigma add nothing visible
  taps, weights = taps[keep], weights[keep] / weights[keep].sum()
  # Output pixel p is sum_i w_i x(p + o_i), o_i = i (sin, cos) of the angle, sampled bilinearly: the same
  # as correlating with a kernel holding the taps' bilinear weights, computed here by FFT.
  r = int(np.ceil(taps[-1] * s)) + 1
  kernel = np.zeros((n, 2 * r + 1, 2 * r + 1))
  for i, wgt in zip(taps, weights):
    oy, ox = i * s * np.sin(angle), i * s * np.cos(angle)
    y0, x0 = np.floor(oy), np.floor(ox)
    for dy, dx in ((0, 0), (0, 1), (1, 0), (1, 1)):
      share = (1 - np.abs(oy - y0 - dy)) * (1 - np.abs(ox - x0 - dx))
      # fftconvolve flips its kernel: offset q sits at index r - q
      np.add.at(kernel, (np.arange(n), (r - y0 - dy).astype(int), (r - x0 - dx).astype(int)), wgt * share)
  return _correlate_fft(x, kernel.astype(np.float32), r)


def _correlate_fft(x_NxHxW, k_NxKxK, r):
  """Each image convolved with its own (2r + 1)-square kernel, zero outside, output the image's size."""
  h, w = x_NxHxW.shape[1:]
  size = [fft.next_fast_len(m + 2 * r, real=True) for m in (h, w)]
  spectrum = fft.rfft2(x_NxHxW, size) * fft.rfft2(k_NxKxK, size)
  return fft.irfft2(spectrum, size)[:, r:r + h, r:r + w]


def _shear(x, rng, s):
  c = 0.4 * _signs(rng, len(x))
  a = np.zeros((len(x), 2, 2))
  a[:, 0, 0], a[:, 0, 1], a[:, 1, 1] = 1.0, -np.sin(c), np.cos(c)  # skimage's AffineTransform(shear=c)
  return _affine(x, a)


def _scale(x, rng, s):
  return _affine(x, np.broadcast_to(np.eye(2) / 0.7, (len(x), 2, 2)))


def _rotate(x, rng, s):
  c = 0.4 * _signs(rng, len(x))
  a = np.stack([np.stack([np.cos(c), -np.sin(c)], -1), np.stack([np.sin(c), np.cos(c)], -1)], 1)
  return _affine(x, a)


def _brightness(x, rng, s):
  return x + 0.5


def _translate(x, rng, s):
  t = 3.0 * s * np.stack([_signs(rng, len(x)), _signs(rng, len(x))], -1)
  return _affine(x, np.broadcast_to(np.eye(2), (len(x), 2, 2)), t)


def _stripe(x, rng, s):
  w = x.shape[2]
  out = x.copy()
  for cols in (slice(0, round(7 * w / 28)), slice(round(21 * w / 28), w)):
    out[:, :, cols] = 1.0 - x[:, :, cols]
  return out


def plasma_fractal(rng, count, mapsize=256, wibbledecay=3.0):
  """MNIST-C's (ImageNet-C's) diamond-square heightmaps, `count` at once: count x mapsize x mapsize in [0, 1]."""
  m = np.zeros((count, mapsize, mapsize))
  step, wibble = mapsize, 100.0
  mean = lambda a: a / 4 + wibble * rng.uniform(-wibble, wibble, a.shape)
  while step >= 2:
    half = step // 2
    corners = m[:, 0::step, 0::step]
    square = corners + np.roll(corners, -1, axis=1)
    square = square + np.roll(square, -1, axis=2)
    m[:, half::step, half::step] = mean(square)
    dr, ul = m[:, half::step, half::step], m[:, 0::step, 0::step]
    m[:, 0::step, half::step] = mean(dr + np.roll(dr, 1, axis=1) + ul + np.roll(ul, -1, axis=2))
    m[:, half::step, 0::step] = mean(dr + np.roll(dr, 1, axis=2) + ul + np.roll(ul, -1, axis=1))
    step //= 2
    wibble /= wibbledecay
  m -= m.min(axis=(1, 2), keepdims=True)
  return m / m.max(axis=(1, 2), keepdims=True)


def _fog(x, rng, s):
  strength, decay = 3.0, 1.4
  n, h, w = x.shape
  pool = plasma_fractal(rng, FOG_POOL, wibbledecay=decay)[:, :28, :28]
  pool = np.concatenate([np.rot90(p, k, axes=(1, 2)) for p in (pool, pool[:, ::-1]) for k in range(4)])
  fog = pool[rng.integers(0, len(pool), n)]
  if (h, w) != (28, 28):
    fog = ndimage.zoom(fog, (1, h / 28, w / 28), order=1, grid_mode=True, mode="nearest")
  peak = x.max(axis=(1, 2), keepdims=True)
  return (x + strength * fog) * peak / (peak + strength)


def _spatter(x, rng, s):
  loc, scale, sigma, threshold, mask_sigma = 0.65, 0.3, 1.0 * s, 0.65, 1.5 * s
  liquid = _blur(rng.normal(loc, scale, x.shape), sigma)
  mask = _blur((liquid > threshold).astype(np.float32), mask_sigma)
  mask[mask < 0.8] = 0.0
  return x * (1 - mask) + 63 / 255 * mask


def _dotted_line(x, rng, s):
  rows, cols = _grid28(*x.shape[1:])
  r0, r1 = rng.integers(0, 27, len(x)), rng.integers(0, 27, len(x))
  line = _line(rows, cols, np.zeros(len(x)), r0, np.full(len(x), 27.0), r1)
  line[np.broadcast_to(np.floor(cols / 2) % 2 == 0, line.shape)] = 0.0  # dashes: 2 px off, 2 px on
  return x + line


def _zigzag_points(r0, r1, a=2.0, b=2.0, c0=2.0, c1=25.0):
  """MNIST-C's zigzag vertices for one image: (cols, rows) along the segment (c0, r0) - (c1, r1)."""
  theta = np.arctan((r1 - r0) / (c1 - c0))
  d = (c1 - c0) / np.cos(theta)
  points = [(0.0, 0.0)]
  for i in range(int((d - a) // (2 * a)) + 1):
    points.append(((2 * i + 1) * a, (-1) ** i * b))
  top = 2 * a * (d // (2 * a))
  if d != top:
    points.append((d, points[-1][1] / (2 * (d - top))))
  rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
  cs, rs = rot @ np.array(points).T
  return cs + c0, rs + r0


def _zigzag(x, rng, s):
  rows, cols = _grid28(*x.shape[1:])
  r0 = rng.integers(0, 27, len(x))
  r1 = r0 + rng.integers(-5, 5, len(x))
  vertices = [_zigzag_points(a, b) for a, b in zip(r0, r1)]  # 8 per image for every slope drawn
  cs, rs = np.array([v[0] for v in vertices]), np.array([v[1] for v in vertices])
  out = x.copy()
  for k in range(1, cs.shape[1]):
    out += _line(rows, cols, cs[:, k - 1], rs[:, k - 1], cs[:, k], rs[:, k])
  return out


def _canny_edges(x, rng, s, low=0.1, high=0.2):
  smooth = _blur(x.astype(np.float64), 1.0 * s)
  deriv, avg = np.array([-1.0, 0.0, 1.0]), np.array([1.0, 2.0, 1.0])
  gy = ndimage.correlate1d(ndimage.correlate1d(smooth, deriv, axis=1), avg, axis=2)
  gx = ndimage.correlate1d(ndimage.correlate1d(smooth, deriv, axis=2), avg, axis=1)
  mag = np.hypot(gx, gy)
  # The gradient's direction rounded to one of four; a pixel stays where it is the largest of its
  # two neighbours along it.
  sector = np.round(np.arctan2(gy, gx) / (np.pi / 4)).astype(int) % 4
  pad = np.pad(mag, ((0, 0), (1, 1), (1, 1)))
  h, w = mag.shape[1:]
  shifted = lambda dr, dc: pad[:, 1 + dr:1 + dr + h, 1 + dc:1 + dc + w]
  keep = np.zeros(mag.shape, bool)
  for k, (dr, dc) in enumerate(((0, 1), (1, 1), (1, 0), (1, -1))):
    keep |= (sector == k) & (mag >= shifted(dr, dc)) & (mag >= shifted(-dr, -dc))
  keep[:, [0, -1], :] = keep[:, :, [0, -1]] = False  # skimage leaves the border out
  weak, strong = keep & (mag >= low), keep & (mag >= high)
  # Hysteresis: a weak edge pixel stays when its 8-connected component (within its image) has a strong one.
  structure = np.zeros((3, 3, 3), bool)
  structure[1] = True
  labels, _ = ndimage.label(weak, structure)
  good = np.zeros(labels.max() + 1, bool)
  good[labels[strong]] = True
  good[0] = False
  return good[labels].astype(np.float32)


_FUNCTIONS = {name: globals()[f"_{name}"] for name in NAMES}
