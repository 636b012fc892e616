"""PyTorch code that computes what a reference claims, sharing no code with symdl."""
