"""Knee crops: the knee locator, the crops archive of a scan folder, the preview."""
