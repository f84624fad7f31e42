"""Deep-learning building blocks shared by assignments' checks (Keras: ``keras_checks``)."""
