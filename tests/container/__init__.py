"""Container tier: the real Dockerfile built with buildah on a stand-in base and run as the runner runs it."""
