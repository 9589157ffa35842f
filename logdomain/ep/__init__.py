"""Feedforward-tied energy-based models: EP through SPICE and behavioural analog blocks (Nest & Ernoult 2024)."""
