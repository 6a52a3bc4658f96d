"""The hostile-input catalogue: broken, damaged and malicious inputs through the real ``bench`` CLI."""
