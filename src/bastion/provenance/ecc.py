"""Error correction for the watermark payload: CRC-16 and a soft-decision convolutional code.

The code is the constraint-length 7, rate 1/3 convolutional code with generators 133, 171, 165
(octal), terminated with six zero tail bits, decoded by a Viterbi decoder that takes soft
values (positive = bit 1). Everything is vectorised over the 64 trellis states with numpy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

CONSTRAINT = 7
GENERATORS = (0o133, 0o171, 0o165)
RATE = len(GENERATORS)
TAIL = CONSTRAINT - 1
_STATES = 1 << TAIL


def crc16(bits: Sequence[int]) -> int:
    """CRC-16/CCITT (polynomial 0x1021, initial value 0xFFFF) over a bit sequence."""
    crc = 0xFFFF
    for bit in bits:
        top = (crc >> 15) & 1
        crc = (crc << 1) & 0xFFFF
        if top ^ (int(bit) & 1):
            crc ^= 0x1021
    return crc


def _parity(value: int) -> int:
    return bin(value).count("1") & 1


def _register(state: int, bit: int) -> int:
    """The encoder's 7-bit register, MSB first: [input, newest previous input, …, oldest]."""
    value = bit << TAIL
    for i in range(TAIL):
        value |= ((state >> i) & 1) << (TAIL - 1 - i)
    return value


def _trellis() -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int8]]:
    """For each (state, input bit): the next state and the RATE output bits as ±1.

    A state holds the previous six input bits, the newest in its lowest bit.
    """
    nxt = np.zeros((_STATES, 2), dtype=np.intp)
    out = np.zeros((_STATES, 2, RATE), dtype=np.int8)
    for state in range(_STATES):
        for bit in (0, 1):
            nxt[state, bit] = ((state << 1) | bit) & (_STATES - 1)
            register = _register(state, bit)
            for g, generator in enumerate(GENERATORS):
                out[state, bit, g] = 1 if _parity(register & generator) else -1
    return nxt, out


_NEXT, _OUT = _trellis()
# Predecessors of each state: state s is reached from p = (s >> 1) | (b << 5) with input s & 1.
_PRED = np.array([[(s >> 1) | (hi << (TAIL - 1)) for hi in (0, 1)] for s in range(_STATES)])
_PRED_OUT = np.stack(
    [np.stack([_OUT[_PRED[s, hi], s & 1] for hi in (0, 1)]) for s in range(_STATES)]
).astype(np.float32)  # (state, which predecessor, RATE)


def coded_length(message_bits: int) -> int:
    return (message_bits + TAIL) * RATE


def encode(bits: Sequence[int] | npt.NDArray[np.int8]) -> npt.NDArray[np.int8]:
    """Encode message bits (0/1) into coded bits (0/1), tail included."""
    state = 0
    out = np.empty(coded_length(len(bits)), dtype=np.int8)
    for i, bit in enumerate([*bits, *([0] * TAIL)]):
        b = int(bit) & 1
        out[i * RATE : (i + 1) * RATE] = (_OUT[state, b] + 1) // 2
        state = int(_NEXT[state, b])
    return out


def decode(soft: npt.NDArray[np.floating], message_bits: int) -> npt.NDArray[np.int8]:
    """Maximum-likelihood message bits for soft coded values (positive means 1)."""
    steps = message_bits + TAIL
    if soft.shape != (steps * RATE,):
        raise ValueError(f"expected {steps * RATE} soft values, got {soft.shape}")
    branch_soft = soft.astype(np.float32).reshape(steps, RATE)
    metric = np.full(_STATES, -np.inf, dtype=np.float32)
    metric[0] = 0.0
    choices = np.empty((steps, _STATES), dtype=np.int8)
    for t in range(steps):
        gains = _PRED_OUT @ branch_soft[t]  # (state, predecessor)
        candidates = metric[_PRED] + gains
        choice = np.argmax(candidates, axis=1)
        choices[t] = choice
        metric = candidates[np.arange(_STATES), choice]
        if t >= message_bits:  # tail: only zero inputs, i.e. even states survive
            metric[1::2] = -np.inf
    state = 0
    bits = np.empty(steps, dtype=np.int8)
    for t in range(steps - 1, -1, -1):
        bits[t] = state & 1
        state = int(_PRED[state, choices[t, state]])
    return bits[:message_bits]
