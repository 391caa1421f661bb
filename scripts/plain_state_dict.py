#!/usr/bin/env python3
"""Re-save a PyTorch state_dict as a plain dict of CPU float tensors.

`torch.save(model.state_dict())` writes an OrderedDict, which LibTorch's
unpickler (and so `caudal import`) cannot read; a plain dict of CPU tensors
it can. Needs PyTorch (the machine that ran the official code has it).
Usage: python3 scripts/plain_state_dict.py IN.pt OUT.pt
"""
import sys

import torch

if len(sys.argv) != 3:
    sys.exit(__doc__)
state = torch.load(sys.argv[1], map_location="cpu")
torch.save({name: tensor.float().contiguous() for name, tensor in state.items()}, sys.argv[2])
print(f"{len(state)} tensors -> {sys.argv[2]}")
