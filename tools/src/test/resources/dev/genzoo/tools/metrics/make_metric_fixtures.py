#!/usr/bin/python3
"""Reference values for the metrics tests (FrechetTest, InceptionScoreTest, KidTest, PrecisionRecallTest).

Run with a Python that has numpy and scipy (Debian's /usr/bin/python3):
    cd tools/src/test/resources/dev/genzoo/tools/metrics && /usr/bin/python3 make_metric_fixtures.py

Every expected number is computed here from the float32 arrays that are also saved (converted to float64, as the
Java code reads them), with the formulas of the reference implementations:
  - FID as TTUR's calculate_frechet_distance: scipy.linalg.sqrtm(sigma1.dot(sigma2)), real part, with mu/sigma from
    np.mean and np.cov(rowvar=False); also the same distance through numpy.linalg.eigh (the symmetric route) as a
    cross-check of the reference where it is ill-conditioned (singular covariances).
    Eigenvalues at round-off level (below numpy.linalg.matrix_rank's tolerance max|w| * n * eps) count as 0 there,
    as in the Java code; without that, each zero eigenvalue of a singular covariance adds a noise term of about
    sqrt(eps * |S|) to the trace, which is why the reference's sqrtm drifts by ~1e-9 relative on singular inputs.
  - Matrix square roots with scipy.linalg.sqrtm (and through eigh, clipped the same way), numpy.linalg.eigh
    eigenvalues.
  - Inception Score as improved-gan's inception_score.py (splits in order, exp(mean KL), mean and np.std).
  - KID as Binkowski et al.'s compute_scores.py (polynomial kernel (x.y/d + 1)^3, unbiased MMD^2 with
    K_XY.sum() / (m * m)), on given subset indices.
  - Precision/recall by brute force in float64 (k-th neighbour radius with the vector itself excluded).
Feature values are multiples of 1/64 (exact in float32), which keeps the compressed .npz files small.
"""
import numpy as np
import scipy.linalg

rng = np.random.default_rng(20240607)


def features(n, d, shift=0.0, scale=1.0, rank=None):
    """Non-negative, correlated, Inception-like features, quantised to 1/64, float32."""
    r = d if rank is None else rank
    mix = rng.normal(size=(r, d)) / np.sqrt(r)
    z = rng.normal(size=(n, r)) @ mix * scale + shift + rng.gamma(2.0, 0.25, size=(1, d))
    x = np.maximum(z, 0) + 0.05 * rng.gamma(1.5, 1.0, size=(n, d))
    return (np.round(x * 64) / 64).astype(np.float32)


def stats(x):
    x = x.astype(np.float64)
    return x.mean(axis=0), np.cov(x, rowvar=False)


def fid_scipy(mu1, s1, mu2, s2):
    """TTUR's calculate_frechet_distance."""
    diff = mu1 - mu2
    covmean, _ = scipy.linalg.sqrtm(s1.dot(s2), disp=False)
    if not np.isfinite(covmean).all():
        offset = np.eye(s1.shape[0]) * 1e-6
        covmean = scipy.linalg.sqrtm((s1 + offset).dot(s2 + offset))
    covmean = covmean.real
    return diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)


def clip(w):
    """Eigenvalues at round-off level are zeros: numpy.linalg.matrix_rank's tolerance, max|w| * n * eps."""
    tol = np.abs(w).max() * len(w) * np.finfo(np.float64).eps
    return np.where(w > tol, w, 0.0)


def fid_eigh(mu1, s1, mu2, s2):
    """The symmetric route: eigenvalues of S1^(1/2) S2 S1^(1/2), with S1^(1/2) from eigh; eigenvalues of S1 and of
    the product at round-off level (see clip) count as 0, as in the Java code."""
    w, v = np.linalg.eigh(s1)
    r = (v * np.sqrt(clip(w))) @ v.T
    m = r @ s2 @ r
    mu = clip(np.linalg.eigvalsh((m + m.T) / 2))
    diff = mu1 - mu2
    return diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(mu).sum()


def fid_fixture():
    out = {}
    a64 = features(256, 64)
    b64 = features(320, 64, shift=0.3, scale=1.2)
    s64 = features(40, 64, shift=0.1)          # 40 < 64 samples: singular covariance
    t64 = features(48, 64, shift=-0.1, scale=0.8)
    lr64 = features(200, 64, rank=12)          # rank-deficient mixing: near-singular covariance
    a256 = features(288, 256, scale=0.9)
    b256 = features(200, 256, shift=0.2)       # 200 < 256 samples: singular covariance
    arrays = {"a64": a64, "b64": b64, "s64": s64, "t64": t64, "lr64": lr64, "a256": a256, "b256": b256}
    out.update(arrays)
    mu, sigma = stats(a64)
    out["a64_mu"] = mu
    out["a64_sigma"] = sigma
    cases = [("a64", "b64"), ("s64", "b64"), ("s64", "t64"), ("lr64", "a64"), ("a256", "b256"), ("a64", "a64")]
    for p, q in cases:
        m1, c1 = stats(arrays[p])
        m2, c2 = stats(arrays[q])
        fs, fe = fid_scipy(m1, c1, m2, c2), fid_eigh(m1, c1, m2, c2)
        out["fid_scipy_%s_%s" % (p, q)] = np.array(fs)
        out["fid_eigh_%s_%s" % (p, q)] = np.array(fe)
        print("fid %-10s scipy %.10f eigh %.10f rel diff %.2e" % (p + "," + q, fs, fe, abs(fs - fe) / max(abs(fe), 1e-30)))
    # Statistics saved as float32, as some precomputed statistics files are.
    out["b64_mu_f4"] = stats(b64)[0].astype(np.float32)
    out["b64_sigma_f4"] = stats(b64)[1].astype(np.float32)
    m1, c1 = stats(a64)
    out["fid_a64_b64stats_f4"] = np.array(fid_scipy(m1, c1, out["b64_mu_f4"].astype(np.float64),
                                                    out["b64_sigma_f4"].astype(np.float64)))
    np.savez_compressed("metric_fid.npz", **out)


def sqrtm_fixture():
    out = {}
    d = 32
    x = rng.normal(size=(100, d))
    spd = x.T @ x / 100 + 0.01 * np.eye(d)
    y = rng.normal(size=(10, d))
    psd = y.T @ y / 10                          # rank 10 of 32
    for name, a in (("spd", spd), ("psd", psd)):
        s = scipy.linalg.sqrtm(a)
        out[name] = a
        out[name + "_sqrtm"] = np.real(s)
        out[name + "_eigvals"] = np.linalg.eigvalsh(a)
        w, v = np.linalg.eigh(a)
        out[name + "_sqrt_eigh"] = (v * np.sqrt(clip(w))) @ v.T
        print("sqrtm %s: |scipy - eigh| max %.2e, imag max %.2e, |S S - A| max %.2e" % (
            name, np.abs(np.real(s) - out[name + "_sqrt_eigh"]).max(), np.abs(np.imag(s)).max(),
            np.abs(np.real(s) @ np.real(s) - a).max()))
    np.savez_compressed("metric_sqrtm.npz", **out)


def inception_score(p, splits):
    """improved-gan's inception_score.py, in float64."""
    scores = []
    n = p.shape[0]
    for i in range(splits):
        part = p[(i * n // splits):((i + 1) * n // splits), :]
        kl = part * (np.log(part) - np.log(np.expand_dims(np.mean(part, 0), 0)))
        kl = np.mean(np.sum(kl, 1))
        scores.append(np.exp(kl))
    return np.mean(scores), np.std(scores), np.array(scores)


def is_fixture():
    out = {}
    n, c = 250, 20
    centres = rng.integers(0, c, size=n)
    logits = rng.normal(size=(n, c)) * 1.5
    logits[np.arange(n), centres] += rng.uniform(0, 5, size=n)
    logits = logits.astype(np.float32)
    out["logits"] = logits
    z = logits.astype(np.float64)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    for splits in (10, 3, 1):
        m, s, sc = inception_score(p, splits)
        out["logits_is_%d" % splits] = np.array([m, s])
        out["logits_scores_%d" % splits] = sc
        print("IS from logits, %d splits: %.10f +- %.10f" % (splits, m, s))
    probs = p.astype(np.float32)
    out["probs"] = probs
    m, s, sc = inception_score(probs.astype(np.float64), 10)
    out["probs_is_10"] = np.array([m, s])
    np.savez_compressed("metric_is.npz", **out)


def poly_kernel(x, y):
    return (x @ y.T / x.shape[1] + 1) ** 3


def mmd2_reference(x, y):
    """compute_scores.py's _mmd2_and_variance, mmd_est='unbiased', for equal sizes."""
    kxx, kyy, kxy = poly_kernel(x, x), poly_kernel(y, y), poly_kernel(x, y)
    m = kxx.shape[0]
    kt_xx = kxx.sum() - np.trace(kxx)
    kt_yy = kyy.sum() - np.trace(kyy)
    return (kt_xx + kt_yy) / (m * (m - 1)) - 2 * kxy.sum() / (m * m)


def mmd2_general(x, y):
    kxx, kyy, kxy = poly_kernel(x, x), poly_kernel(y, y), poly_kernel(x, y)
    mx, my = x.shape[0], y.shape[0]
    return ((kxx.sum() - np.trace(kxx)) / (mx * (mx - 1)) + (kyy.sum() - np.trace(kyy)) / (my * (my - 1))
            - 2 * kxy.sum() / (mx * my))


def kid_fixture():
    out = {}
    d = 32
    a = features(100, d)
    b = features(100, d, shift=0.15, scale=1.1)
    c = features(70, d, shift=0.05)
    out.update({"a": a, "b": b, "c": c})
    A, B, C = (v.astype(np.float64) for v in (a, b, c))
    out["mmd2_ab"] = np.array(mmd2_reference(A, B))
    out["mmd2_aa_halves"] = np.array(mmd2_reference(A[:50], A[50:]))
    out["mmd2_ac"] = np.array(mmd2_general(A, C))
    out["kernel_scale"] = np.array(max(poly_kernel(A, A).mean(), poly_kernel(B, B).mean()))
    idx_a = np.stack([rng.choice(100, 40, replace=False) for _ in range(3)]).astype(np.int32)
    idx_b = np.stack([rng.choice(100, 40, replace=False) for _ in range(3)]).astype(np.int32)
    out["idx_a"] = idx_a
    out["idx_b"] = idx_b
    out["mmd2_subsets"] = np.array([mmd2_reference(A[ia], B[ib]) for ia, ib in zip(idx_a, idx_b)])
    print("KID full a,b %.10e; a,c %.10e; subsets %s" % (out["mmd2_ab"], out["mmd2_ac"], out["mmd2_subsets"]))
    np.savez_compressed("metric_kid.npz", **out)


def sqdist(x, y):
    return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)


def pr_reference(real, fake, k):
    drr = sqdist(real, real)
    dff = sqdist(fake, fake)
    np.fill_diagonal(drr, np.inf)
    np.fill_diagonal(dff, np.inf)
    rr = np.sort(drr, axis=1)[:, k - 1]
    rf = np.sort(dff, axis=1)[:, k - 1]
    dfr = sqdist(fake, real)
    precision = (dfr <= rr[None, :]).any(axis=1).mean()
    recall = (dfr.T <= rf[None, :]).any(axis=1).mean()
    # Margin: how close any comparison is to its radius (relative); the Java float dot products must not flip one.
    margin = min(np.abs(dfr / rr[None, :] - 1).min(), np.abs(dfr.T / rf[None, :] - 1).min())
    return precision, recall, rr, margin


def pr_fixture():
    while True:
        d = 8
        real = features(200, d)
        fake = features(150, d, shift=0.25, scale=1.3)
        out = {"real": real, "fake": fake}
        R, F = real.astype(np.float64), fake.astype(np.float64)
        ok = True
        for k in (1, 3, 5):
            p, r, rr, margin = pr_reference(R, F, k)
            out["pr_k%d" % k] = np.array([p, r])
            out["radii2_real_k%d" % k] = rr
            print("PR k=%d: precision %.6f recall %.6f (margin %.2e)" % (k, p, r, margin))
            ok &= margin > 1e-4
        if ok:
            break
        print("a comparison is within 1e-4 of a radius; drawing again")
    np.savez_compressed("metric_pr.npz", **out)


if __name__ == "__main__":
    fid_fixture()
    sqrtm_fixture()
    is_fixture()
    kid_fixture()
    pr_fixture()
