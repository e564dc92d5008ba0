"""The built-in rates: public on-demand list prices in USD (sources in ``docs/cost.md``).

- CPU and RAM: OpenCost's default pricing (``configs/default.json``, "based on GCP
  us-central1"): 0.031611 per vCPU-hour, 0.004237 per GiB-hour; its GPU default, 0.95 per
  GPU-hour, prices GPU models not listed below.
- GPU models: AWS EC2 on-demand Linux prices in us-east-1 (g4dn.xlarge for T4, g5.xlarge for
  A10G, p4d.24xlarge for A100, p5.48xlarge for H100, after AWS's June 2025 reduction), per
  GPU, less the instance's vCPUs and memory per GPU at the CPU and RAM rates above (those
  are billed on their own lines, so they must not be counted twice).
- Storage: AWS EBS gp3 (0.08 per GiB-month) for block, S3 Standard first tier (0.023 per
  GiB-month) for object storage, us-east-1; egress: OpenCost's internet egress default, 0.12
  per GiB.

Cloud price lists say "GB" for 2**30 bytes; so do these rates.
"""

from __future__ import annotations

from mlvitals.cost.rates import DEFAULT_GPU, Rates

DEFAULT_CURRENCY = "USD"

DEFAULT_RATES = Rates(
    cpu_core_hour=0.031611,
    ram_gib_hour=0.004237,
    gpu_hour={
        DEFAULT_GPU: 0.95,
        # instance price / GPUs - (vCPUs x 0.031611 + GiB x 0.004237) / GPUs
        "T4": 0.3318,  # g4dn.xlarge: 0.526, 4 vCPU, 16 GiB, 1 GPU
        "A10G": 0.8118,  # g5.xlarge: 1.006, 4 vCPU, 16 GiB, 1 GPU
        "A100": 1.7555,  # p4d.24xlarge: 21.96, 96 vCPU, 1152 GiB, 8 GPUs
        "H100": 5.0367,  # p5.48xlarge: 55.04, 192 vCPU, 2048 GiB, 8 GPUs
    },
    block_storage_gib_month=0.08,
    object_storage_gib_month=0.023,
    egress_gib=0.12,
    per_1k_calls={},
)
