"""The app's version, written into export manifests so a bundle says what produced it."""

VERSION = "0.4.0"
