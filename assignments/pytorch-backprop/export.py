# Runs in the student's kernel after their code. `ex` is the grader's Exporter: it
# calls the student's functions on the probe inputs and writes back what they return.
# No expected value is here; every comparison happens in the trusted process.
import copy
import os

import numpy as np

inp = ex.inputs
PARAMS = ("W1", "b1", "W2", "b2")
NETWORKS = sorted({key.split(":")[1] for key in inp if key.startswith("red:")})
FINITE_DIFFERENCES = ("curso", "ancha")


def network(name):
    red = {k: inp[f"red:{name}:{k}"].astype(float) for k in PARAMS}
    return red, inp[f"red:{name}:x"].astype(float), inp[f"red:{name}:y"].astype(float)


def put_params(prefix, values):
    if not isinstance(values, dict):
        raise TypeError(f"se esperaba un diccionario con claves {PARAMS}, no {type(values).__name__}")
    missing = [k for k in PARAMS if k not in values]
    if missing:
        raise KeyError("faltan las claves " + ", ".join(missing))
    for k in PARAMS:
        ex.put(f"{prefix}:{k}", values[k])


# Part 1: the hand-written network, on the course example and the probe networks.
def forward(name):
    red, x, _ = network(name)
    h, y_pred = ex.get("adelante")(red, x)
    ex.put(f"adelante:{name}:h", h)
    ex.put(f"adelante:{name}:y_pred", y_pred)


def numeric_gradients(name, eps=1e-5):
    """Central differences of the student's own error(adelante(...)), one parameter entry at a time."""
    red, x, y = network(name)
    adelante, error = ex.get("adelante"), ex.get("error_cuadratico")

    def loss(params):
        return float(np.sum(error(adelante(params, x)[1], y)))

    grads = {}
    for k in PARAMS:
        grads[k] = np.zeros_like(red[k])
        for index in np.ndindex(red[k].shape):
            up = {q: v.copy() for q, v in red.items()}
            down = {q: v.copy() for q, v in red.items()}
            up[k][index] += eps
            down[k][index] -= eps
            grads[k][index] = (loss(up) - loss(down)) / (2 * eps)
    put_params(f"numerico:{name}", grads)


for name in NETWORKS:
    ex.run(f"adelante:{name}", lambda name=name: forward(name))
    if f"err:{name}:pred" in inp:
        ex.call(f"error:{name}", "error_cuadratico", inp[f"err:{name}:pred"], inp[f"err:{name}:y"])
    ex.run(f"gradientes:{name}",
           lambda name=name: put_params(f"gradientes:{name}", ex.get("gradientes")(*network(name))))
    if name in FINITE_DIFFERENCES:
        ex.run(f"numerico:{name}", lambda name=name: numeric_gradients(name))
    if f"upd:{name}:tasa" in inp:
        grads = {k: inp[f"upd:{name}:g:{k}"].astype(float) for k in PARAMS}
        ex.run(f"actualizar:{name}", lambda name=name, grads=grads: put_params(
            f"actualizar:{name}",
            ex.get("actualizar")(network(name)[0], grads, float(inp[f"upd:{name}:tasa"]))))


# Part 2: the PyTorch model, its training curve, the trained model as a program.
def torch():
    import torch as module
    return module


def layers(model):
    found = []
    for _, module in model.named_modules():
        own = list(module.parameters(recurse=False))
        if own:
            found.append({
                "kind": type(module).__name__,
                "inputs": getattr(module, "in_features", None),
                "outputs": getattr(module, "out_features", None),
                "params": int(sum(p.numel() for p in own)),
                "bias": getattr(module, "bias", None) is not None,
            })
    return {"layers": found, "total": int(sum(p.numel() for p in model.parameters()))}


def probe_output():
    t = torch()
    model = ex.get("MyFirstPytorchModel")().eval()
    with t.no_grad():
        out = model(t.from_numpy(inp["sonda_X"].astype(np.float32)))
    return out.detach().cpu().double().numpy()


def save_program():
    """The trained model as a torch.export program: weights and operations, no Python code."""
    t = torch()
    trained = ex.get("modelo")
    model = copy.deepcopy(trained).cpu().eval()
    example = (t.from_numpy(inp["ejemplo_X"].astype(np.float32)),)
    try:
        program = t.export.export(model, example, dynamic_shapes=({0: t.export.Dim.AUTO},))
    except Exception:
        program = t.export.export(model, example)
    t.export.save(program, os.path.join(ex.out_dir, "modelo.pt2"))
    ops = [str(node.target) for node in program.graph.nodes if node.op == "call_function"]
    return {"ops": [op.split(".")[1] if op.startswith("aten.") else op for op in ops],
            "device": str(next(trained.parameters()).device), "torch": t.__version__}


def replay():
    """One run of the student's entrenar on a model and an SGD optimizer of the grader's."""
    t = torch()
    nn = t.nn
    start = {key.split(":", 2)[2]: inp[key] for key in inp if key.startswith("repaso:w:")}
    hidden, inputs = start["0.weight"].shape
    model = nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, start["2.weight"].shape[0]))
    model.load_state_dict({k: t.from_numpy(v.astype(np.float32)) for k, v in start.items()})
    calls = []
    model.register_forward_hook(lambda *_: calls.append(1))
    optimizer = t.optim.SGD(model.parameters(), lr=float(inp["repaso:lr"]))
    X = t.from_numpy(inp["repaso:X"].astype(np.float32))
    y = t.from_numpy(inp["repaso:y"].astype(np.int64))
    losses = ex.get("entrenar")(model, optimizer, nn.CrossEntropyLoss(), X, y, int(inp["repaso:epocas"]))
    for key, value in model.state_dict().items():
        ex.put(f"repaso:despues:{key}", value.detach().cpu().double().numpy())
    return {"forward_calls": len(calls), "grads_none": all(p.grad is None for p in model.parameters()),
            "losses": len(losses) if hasattr(losses, "__len__") else None}


ex.run("arquitectura", lambda: layers(ex.get("MyFirstPytorchModel")()))
ex.run("salida:sonda", probe_output)
ex.run("programa", save_program)
ex.run("perdidas", lambda: np.array([float(v) for v in ex.get("perdidas")], dtype=float))
ex.run("repaso", replay)  # last: a student loop that trains a global model can't spoil the rest
