"""tradelab.agents: SAC agents over stable-baselines3.

``sac`` (SACConfig, SACAgent, the ``.pt`` format), ``checkpoint`` (weights-only read/write, replay
buffers, ``FORMAT_VERSION``; the layer below ``sac``, which imports it), ``sb3_ext`` (per-optimiser
learning rates, loss log), ``aux`` (agent 2's auxiliary next-return head), ``regime`` (agent 3's
forward-filtered Gaussian HMM), ``sac_data`` (scaler / regime features / auxiliary target from market
data). Imported on demand (torch is heavy).
"""
