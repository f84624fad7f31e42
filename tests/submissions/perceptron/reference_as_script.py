import numpy as np

# %%
def producto_matricial(A, B):
    """Producto de matrices calculado entrada por entrada."""
    ### BEGIN SOLUTION
    A = np.asarray(A, dtype=float)
    B = np.asarray(B, dtype=float)
    filas, comunes = A.shape
    comunes_b, columnas = B.shape
    if comunes != comunes_b:
        raise ValueError(f"dimensiones incompatibles: {A.shape} y {B.shape}")
    C = np.zeros((filas, columnas))
    for i in range(filas):
        for j in range(columnas):
            total = 0.0
            for k in range(comunes):
                total += A[i, k] * B[k, j]
            C[i, j] = total
    return C
    ### END SOLUTION

# %%
A_clase = np.array([[2, 5, 2], [1, 0, -2], [3, 1, 1]])
B_clase = np.array([[-2, 1, 0], [-2, 2, 1], [0, 0, 3]])
print(producto_matricial(A_clase, B_clase))

# %%
def escalon(x):
    ### BEGIN SOLUTION
    return np.where(np.asarray(x) >= 0, 1.0, 0.0)
    ### END SOLUTION


def sigmoide(x):
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    # exp de un número negativo nunca desborda: se usa la forma adecuada a cada signo
    positivo = x >= 0
    z = np.exp(-np.abs(x))
    return np.where(positivo, 1.0 / (1.0 + z), z / (1.0 + z))
    ### END SOLUTION


def tanh(x):
    ### BEGIN SOLUTION
    return np.tanh(np.asarray(x, dtype=float))
    ### END SOLUTION


def relu(x):
    ### BEGIN SOLUTION
    return np.maximum(0.0, np.asarray(x, dtype=float))
    ### END SOLUTION


def leaky_relu(x):
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    return np.where(x >= 0, x, 0.1 * x)
    ### END SOLUTION


def elu(x, alpha=1.0):
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    return np.where(x >= 0, x, alpha * np.expm1(np.minimum(x, 0.0)))
    ### END SOLUTION


def derivada_sigmoide(x):
    ### BEGIN SOLUTION
    s = sigmoide(x)
    return s * (1.0 - s)
    ### END SOLUTION


def derivada_tanh(x):
    ### BEGIN SOLUTION
    return 1.0 - np.tanh(np.asarray(x, dtype=float)) ** 2
    ### END SOLUTION

# %%
x = np.linspace(-3, 3, 7)
print("sigmoide(0) =", sigmoide(np.array(0.0)))
print("relu:", relu(x))
print("derivada_tanh(0) =", derivada_tanh(np.array(0.0)))

# %%
class Perceptron:
    def __init__(self, tasa=0.1, epocas=50):
        self.tasa = tasa
        self.epocas = epocas
        self.weights = None
        self.bias = None

    def fit(self, X, y):
        ### BEGIN SOLUTION
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
        self.weights = np.zeros(X.shape[1])
        self.bias = 0.0
        for _ in range(self.epocas):
            errores = 0
            for xi, objetivo in zip(X, y):
                error = objetivo - self.predict(xi[None, :])[0]
                if error != 0:
                    self.weights = self.weights + self.tasa * error * xi
                    self.bias = float(self.bias + self.tasa * error)
                    errores += 1
            if errores == 0:
                break
        return self
        ### END SOLUTION

    def predict(self, X):
        ### BEGIN SOLUTION
        X = np.asarray(X, dtype=float)
        return escalon(X @ self.weights + self.bias).astype(int)
        ### END SOLUTION

# %%
X_logica = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
y_and = np.array([0, 0, 0, 1])
y_or = np.array([0, 1, 1, 1])
y_xor = np.array([0, 1, 1, 0])

for nombre, y in [("AND", y_and), ("OR", y_or)]:
    p = Perceptron().fit(X_logica, y)
    print(nombre, p.predict(X_logica), "pesos", p.weights, "sesgo", p.bias)

# %%
### BEGIN SOLUTION
perceptron_xor = Perceptron(epocas=100).fit(X_logica, y_xor)
precision_xor = float(np.mean(perceptron_xor.predict(X_logica) == y_xor))
### END SOLUTION
print("precisión en XOR:", precision_xor)

# %%
datos = np.loadtxt("data/aprobacion.csv", delimiter=",", skiprows=1)
X_aprob = datos[:, :2]
y_aprob = datos[:, 2].astype(int)
print(X_aprob.shape, "aprobados:", y_aprob.mean())

# %%
### BEGIN SOLUTION
media = X_aprob.mean(axis=0)
desviacion = X_aprob.std(axis=0)
modelo_aprobacion = Perceptron(tasa=0.05, epocas=200).fit((X_aprob - media) / desviacion, y_aprob)
### END SOLUTION

# %%
def predecir_aprobacion(X):
    ### BEGIN SOLUTION
    X = np.asarray(X, dtype=float)
    return modelo_aprobacion.predict((X - media) / desviacion)
    ### END SOLUTION


print("precisión en entrenamiento:", np.mean(predecir_aprobacion(X_aprob) == y_aprob))
