"""Reading the scans: the .mat readers and writer, the phantom, the patient pseudonyms."""
