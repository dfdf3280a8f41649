"""builtin:tiny, the small Llama chat model hyp builds on this machine, the same every time: `build`
makes and caches it, `corpus` is what it is pre-trained on. It sits below hyp.experiments and imports none of it."""
