import numpy as np


def linear_forward(x, W, b):
    B, D = x.shape
    F = W.shape[1]
    y = np.zeros((B, F))
    for n in range(B):
        for j in range(F):
            total = b[j]
            for i in range(D):
                total += x[n, i] * W[i, j]
            y[n, j] = total
    return y, (x.copy(), W.copy())


def linear_backward(dy, cache):
    x, W = cache
    B, D = x.shape
    F = W.shape[1]
    dx = np.zeros((B, D))
    dW = np.zeros((D, F))
    db = np.zeros(F)
    for n in range(B):
        for i in range(D):
            for j in range(F):
                dx[n, i] += dy[n, j] * W[i, j]
                dW[i, j] += x[n, i] * dy[n, j]
        for j in range(F):
            db[j] += dy[n, j]
    return dx, dW, db
