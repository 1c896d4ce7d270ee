"""Built-in dataset loaders (role ``load``): local files, Hugging Face datasets, synthetic inputs."""
