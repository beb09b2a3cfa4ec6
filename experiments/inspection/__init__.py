"""Inspecting a trained run: grading one scan, Grad-CAM, feature maps."""
