"""The public checks of each assignment, run by ``autograder check`` on a classic mistake.

Each test plants one mistake in the reference and checks what a student is told: that the
mistake costs the item the hidden tests charge it to (and no other), and that the hint names
the real cause. The hidden tests are stricter; these guard the instant feedback.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.cli.conftest import REPO, plain_pytest, run_cli

SUMMARY_LINE = re.compile(r"^ ([✔✘]) .* \[(\w+), [\d.]+ pts?\]: (\d+)/(\d+) public checks", re.M)


def mistaken(source: str, *replacements: tuple[str, str]) -> str:
    """``source`` with each ``(old, new)`` replaced once; ``old`` must be there."""
    for old, new in replacements:
        assert old in source, old
        source = source.replace(old, new, 1)
    return source


def planted(tmp_path: Path, assignment: str, *replacements: tuple[str, str]) -> Path:
    """A student's copy of the release holding the reference with ``replacements`` made."""
    folder = tmp_path / assignment
    shutil.copytree(REPO / "assignments" / assignment, folder)
    reference = (REPO / "solutions" / assignment / f"{assignment}.py").read_text()
    (folder / f"{assignment}.py").write_text(mistaken(reference, *replacements))
    return folder


def check(tmp_path: Path, assignment: str, *replacements: tuple[str, str]) -> str:
    """``autograder check`` on the reference with ``replacements`` made; its output."""
    result = run_cli("check", cwd=planted(tmp_path, assignment, *replacements))
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    assert "not your fault" not in result.stdout, result.stdout
    return result.stdout


def failed_items(output: str) -> set[str]:
    """The rubric items with a failed public check, from the summary."""
    return {item for mark, item, _, _ in SUMMARY_LINE.findall(output) if mark == "✘"}


# -- linear -----------------------------------------------------------------------------------


def test_linear_backward_that_changes_its_cache_loses_purity(tmp_path: Path) -> None:
    out = check(
        tmp_path,
        "linear",
        ("    x, W = cache\n", "    x, W = cache\n    x *= 2\n"),
        ("dW = x.T @ dy", "dW = x.T @ dy / 2"),
    )
    assert failed_items(out) == {"purity"}, out
    assert "calling linear_backward twice with the same dy and cache gave two answers" in out


def test_linear_backward_that_frees_its_cache_is_told_it_is_the_second_call(
    tmp_path: Path,
) -> None:
    out = check(
        tmp_path,
        "linear",
        ("    cache = (x.copy(), W.copy())\n", "    cache = [x.copy(), W.copy()]\n"),
        ("    x, W = cache\n", "    W, x = cache.pop(), cache.pop()\n"),
    )
    assert failed_items(out) == {"purity"}, out
    assert (
        "(an earlier linear_backward call was given this same list object and returned: does "
        "linear_backward delete or change what it is given?)"
    ) in out, out


def test_linear_float32_forward_costs_only_shapes(tmp_path: Path) -> None:
    out = check(
        tmp_path, "linear", ("    y = x @ W + b\n", "    y = (x @ W + b).astype(np.float32)\n")
    )
    assert failed_items(out) == {"shapes"}, out
    assert "y has dtype float32, expected float64" in out


def test_linear_float32_inside_a_float64_result_costs_shapes(tmp_path: Path) -> None:
    # Cast back to float64, so only the precision of the numbers can tell (as in grading).
    out = check(
        tmp_path,
        "linear",
        ("dW = x.T @ dy", "dW = (x.astype(np.float32).T @ dy.astype(np.float32)).astype(float)"),
    )
    assert failed_items(out) == {"shapes"}, out
    assert "dW has dtype float64 but not float64 precision" in out
    assert "x, b and dy divided by 10 (W as it was), so float32 cannot hold the numbers" in out


def test_linear_np_matrix_db_names_np_matrix(tmp_path: Path) -> None:
    out = check(tmp_path, "linear", ("db = dy.sum(axis=0)", "db = np.matrix(dy).sum(axis=0)"))
    assert failed_items(out) == {"shapes"}, out
    # Said once, by the diagnosis hint; the public tests no longer add a note of their own.
    assert "no np.matrix, whose results are always 2-D" in out, out
    assert "Or np.matrix" not in out, out


def test_linear_numerical_check_of_a_wrong_forward_gives_no_misleading_hint(
    tmp_path: Path,
) -> None:
    out = check(tmp_path, "linear", ("    y = x @ W + b\n", "    y = 2 * (x @ W) + b\n"))
    # The right dx is half the numerical gradient of this forward: a hint that dx is off by a
    # factor of 2 would send the student to the wrong function.
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if "dx does not match" in line)
    assert "Note: this check differentiates your own linear_forward" in lines[at + 1], out


# -- mlp --------------------------------------------------------------------------------------

MLP_RETURN = '    grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}\n'


def test_mlp_params_updated_in_place_loses_purity(tmp_path: Path) -> None:
    # The worked network's W2 is not zero, so dW1 is not zero and the update shows.
    out = check(tmp_path, "mlp", (MLP_RETURN, MLP_RETURN + '    params["W1"] -= 0.1 * dW1\n'))
    assert failed_items(out) == {"purity"}, out
    assert "mlp_loss_and_grads modified its argument params['W1']" in out


def test_mlp_relu_mask_in_a_global_loses_purity(tmp_path: Path) -> None:
    out = check(
        tmp_path,
        "mlp",
        (
            '    cache = {"positive": x > 0}\n',
            "    global MASK\n    MASK = x > 0\n    cache = None\n",
        ),
        ('np.where(cache["positive"], dy, 0.0)', "np.where(MASK, dy, 0.0)"),
    )
    assert failed_items(out) == {"purity"}, out
    assert "with two relu_forward calls before the two relu_backward calls" in out


def test_mlp_relu_backward_that_pops_its_cache_loses_purity(tmp_path: Path) -> None:
    out = check(
        tmp_path,
        "mlp",
        ('    cache = {"positive": x > 0}\n', "    cache = [x > 0]\n"),
        (
            'np.where(cache["positive"], dy, 0.0)',
            "np.where(cache.pop() if cache else False, dy, 0.0)",
        ),
    )
    assert failed_items(out) == {"purity"}, out
    assert "calling relu_backward twice with the same dy and cache gave two answers" in out


def test_mlp_relu_backward_returning_a_tuple_is_named(tmp_path: Path) -> None:
    out = check(tmp_path, "mlp", ("    return dx\n", "    return dx, None\n"))
    assert (
        "dx should be a numpy array of shape (1, 4), but relu_backward returned a tuple of 2" in out
    )


MLP_LOSS = "    loss = -log_probs[rows, targets].mean()\n"


def test_mlp_loss_summed_over_the_batch_is_named(tmp_path: Path) -> None:
    out = check(
        tmp_path, "mlp", ("log_probs[rows, targets].mean()", "log_probs[rows, targets].sum()")
    )
    assert "the loss is B times the right answer (B = 3)" in out
    assert "extra division by the batch size" not in out  # dlogits is right
    assert "differentiating a square" not in out


def test_mlp_a_wrong_loss_value_costs_the_loss_items_only(tmp_path: Path) -> None:
    """The gradients are right: the numerical checks of dlogits and of the network's gradients
    differentiated the student's own (wrong) loss and charged dW2, db2, dW1 and db1 for it,
    which grading does not. The loss is said wrong by the checks of the loss alone."""
    for case, loss in (
        ("sum", "    loss = -log_probs[rows, targets].sum()\n"),
        ("log2", "    loss = -(log_probs[rows, targets] / np.log(2.0)).mean()\n"),
    ):
        out = check(tmp_path / case, "mlp", (MLP_LOSS, loss))
        assert failed_items(out) == {"softmax_ce", "end_to_end"}, out  # as graded
        assert "the loss does not match the right answer" in out, out
        assert "dlogits does not match" not in out, out
        assert "does not match" not in out.split("[dW2,")[1].split("[end_to_end,")[0], out
        assert "Note: this check differentiates your own" not in out, out


def test_mlp_a_wrong_loss_does_not_hide_a_wrong_gradient(tmp_path: Path) -> None:
    out = check(
        tmp_path,
        "mlp",
        (MLP_LOSS, "    loss = -log_probs[rows, targets].sum()\n"),
        (MLP_RETURN, '    grads = {"W1": dW1, "b1": db1, "W2": dW2 / 3, "b2": db2}\n'),
    )
    assert failed_items(out) == {"softmax_ce", "dW2", "end_to_end"}, out
    assert (
        "grads['W2'] does not match the right answer (for B=4, D=3, H=5, C=6, against central "
        "differences)"
    ) in out, out


def test_mlp_swapped_gradients_are_not_called_a_transpose(tmp_path: Path) -> None:
    out = check(
        tmp_path, "mlp", (MLP_RETURN, '    grads = {"W1": dW2, "b1": db2, "W2": dW1, "b2": db1}\n')
    )
    assert "transpose" not in out and "wrong axis" not in out
    assert "that is the shape of W1: check the keys of the grads dict" in out


def test_mlp_float32_loss_costs_only_shapes(tmp_path: Path) -> None:
    out = check(
        tmp_path, "mlp", ("    return loss, dlogits\n", "    return np.float32(loss), dlogits\n")
    )
    assert failed_items(out) == {"shapes"}, out


def test_mlp_shapes_checks_each_output_on_its_own(tmp_path: Path) -> None:
    # A wrong loss does not hide a wrong grads['W2']: one check per output, as the rubric says.
    out = check(
        tmp_path,
        "mlp",
        ("    return loss, dlogits\n", "    return np.float32(loss), dlogits\n"),
        (MLP_RETURN, MLP_RETURN.replace('"W2": dW2', '"W2": dW2.astype(np.float32)')),
    )
    assert failed_items(out) == {"shapes"}, out
    # The same finding on two sizes is one line (its first case), with its count.
    for output in ("the loss", "grads['W2']"):
        assert (
            f"{output} has dtype float32, expected float64 (for B=1, D=4, H=5, C=6). "
            "(2 checks; the numbers differ between them)"
        ) in out, out
        assert f"{output} has dtype float32, expected float64 (for the worked network" in out
    assert "(for B=3, D=4, H=5, C=6)" not in out, out
    assert "grads['W1'] has dtype" not in out, out


def test_mlp_float32_inside_float64_results_costs_only_shapes(tmp_path: Path) -> None:
    # X rounded to float32, everything after it float64: only the precision can tell.
    out = check(
        tmp_path,
        "mlp",
        (
            "    Y1, cache1 = linear_forward(X, W1, b1)",
            "    Y1, cache1 = linear_forward(X.astype(np.float32), W1, b1)",
        ),
    )
    assert failed_items(out) == {"shapes"}, out
    assert "the loss has dtype float64 but not float64 precision" in out
    assert "W2 multiplied by 10 (W1 and b2 as they were" in out


def test_mlp_classic_mistakes_get_their_hints(tmp_path: Path) -> None:
    relu = check(
        tmp_path / "relu",
        "mlp",
        ('cache = {"positive": x > 0}', 'cache = {"positive": x > 0, "y": y}'),
        ('np.where(cache["positive"], dy, 0.0)', 'dy * cache["y"]'),
    )
    assert "dx is dy multiplied by relu's output y instead of by the 0/1 mask" in relu
    assert "(for relu's worked example, x of shape (2, 3))" in relu
    softmax = check(tmp_path / "softmax", "mlp", ("    dlogits[rows, targets] -= 1.0\n", ""))
    assert "the one-hot of the target is never subtracted" in softmax


def test_mlp_relu_backward_by_its_output_is_named_on_the_worked_network(tmp_path: Path) -> None:
    # The worked network has a hidden pre-activation of 2, so dy * y differs from dy * mask
    # there: its worked dW1 and db1 fail with the hint, not only the numerical checks.
    out = check(
        tmp_path,
        "mlp",
        ('cache = {"positive": x > 0}', 'cache = {"positive": x > 0, "y": y}'),
        ('np.where(cache["positive"], dy, 0.0)', 'dy * cache["y"]'),
    )
    assert failed_items(out) == {"relu", "dW1", "db1", "end_to_end"}, out  # as graded
    for key in ("W1", "b1"):
        assert (
            f"grads['{key}'] is what you get when relu_backward multiplies by relu's output" in out
        ), out


def test_mlp_backward_that_skips_relu_is_named_on_the_worked_network(tmp_path: Path) -> None:
    out = check(tmp_path, "mlp", ("dY1 = relu_backward(dHd, relu_cache)", "dY1 = dHd  # no mask"))
    assert failed_items(out) == {"dW1", "db1", "end_to_end"}, out  # as graded (the mutant)
    for key in ("W1", "b1"):
        assert f"grads['{key}'] ignores relu: the gradient reaching the first layer" in out, out


def test_mlp_dW2_from_the_pre_activation_is_named_on_the_worked_network(tmp_path: Path) -> None:
    out = check(
        tmp_path,
        "mlp",
        # The linear cache is (x, W): hand the second layer's backward Y1 instead of relu(Y1).
        ("linear_backward(dY2, cache2)", "linear_backward(dY2, (Y1, W2))"),
    )
    assert failed_items(out) == {"dW2", "end_to_end"}, out  # as graded (the mutant)
    assert "grads['W2'] was computed from the pre-activation Y1 instead of" in out, out


def test_mlp_softmax_without_a_shift_says_which_case_overflows(tmp_path: Path) -> None:
    out = check(
        tmp_path,
        "mlp",
        ("shifted = logits - logits.max(axis=1, keepdims=True)", "shifted = logits"),
    )
    assert failed_items(out) == {"softmax_ce"}, out
    assert (
        "the loss or dlogits is NaN or infinite (for the worked example with 1000 added to "
        "every logit, B=3, C=4)"
    ) in out, out
    assert "subtract each row's own maximum before exponentiating" in out, out


def test_mlp_log_of_probabilities_loses_softmax_ce(tmp_path: Path) -> None:
    out = check(
        tmp_path,
        "mlp",
        (
            "    loss = -log_probs[rows, targets].mean()\n",
            "    probs = np.exp(log_probs)\n    loss = -np.log(probs[rows, targets]).mean()\n",
        ),
    )
    assert failed_items(out) == {"softmax_ce"}, out
    assert "logits (1000, -1000, 0, 0) with target 1" in out
    assert "never as np.log(p)" in out


def test_mlp_softmax_shifted_by_the_global_maximum_loses_softmax_ce(tmp_path: Path) -> None:
    out = check(
        tmp_path,
        "mlp",
        ("shifted = logits - logits.max(axis=1, keepdims=True)", "shifted = logits - logits.max()"),
    )
    assert failed_items(out) == {"softmax_ce"}, out
    assert "with 1000, 0 and -1000 added to its rows" in out
    assert "the maximum of the whole array leaves a row far below it all zeros" in out


MLP_NETWORK_GRADIENTS = ("W1", "b1", "W2", "b2")


def test_mlp_one_hot_subtracted_in_every_column_is_named(tmp_path: Path) -> None:
    out = check(tmp_path, "mlp", ("dlogits[rows, targets] -= 1.0", "dlogits[:, targets] -= 1.0"))
    assert "dlogits is what you get when 1 is subtracted in every row at the column of every" in out
    for key in MLP_NETWORK_GRADIENTS:
        assert f"grads['{key}'] is what you get when dL/dY2 has 1 subtracted in every row" in out


def test_mlp_division_by_the_number_of_classes_is_named(tmp_path: Path) -> None:
    out = check(
        tmp_path,
        "mlp",
        ("    B = logits.shape[0]\n", "    B, C = logits.shape\n"),
        ("loss = -log_probs[rows, targets].mean()", "loss = -log_probs[rows, targets].sum() / C"),
        ("dlogits /= B", "dlogits /= C"),
    )
    assert "the loss is B/C times the right answer: the sum over the examples is divided" in out
    assert "the network's loss is B/C times the right answer" in out
    for key in MLP_NETWORK_GRADIENTS:
        assert f"grads['{key}'] is B/C times the right answer" in out
    assert "off by a constant factor" not in out
    gradient_only = check(
        tmp_path / "gradient", "mlp", ("dlogits /= B", "dlogits /= logits.shape[1]")
    )
    assert "dlogits is B/C times the right answer" in gradient_only


def test_mlp_softmax_over_the_batch_axis_is_named(tmp_path: Path) -> None:
    out = check(
        tmp_path,
        "mlp",
        (
            "shifted = logits - logits.max(axis=1, keepdims=True)",
            "shifted = logits - logits.max(axis=0, keepdims=True)",
        ),
        (
            "np.exp(shifted).sum(axis=1, keepdims=True)",
            "np.exp(shifted).sum(axis=0, keepdims=True)",
        ),
    )
    assert "the loss is what a softmax of each column (over the batch, axis 0) gives" in out
    assert "the network's loss is what a softmax of each column" in out
    for key in MLP_NETWORK_GRADIENTS:
        assert f"grads['{key}'] is what you get when the softmax is taken of each column" in out
    # With one example every probability is then 1: not told it looks like a placeholder.
    assert "a loss of exactly 0 and dlogits = 1 - one_hot (for the second example alone" in out
    assert "Is the loss still a placeholder" not in out


def test_mlp_loss_of_the_last_example_alone_is_named(tmp_path: Path) -> None:
    loop = "    for i in range(B):\n        loss = -log_probs[i, targets[i]]\n"
    out = check(
        tmp_path, "mlp", ("    loss = -log_probs[rows, targets].mean()\n", loop + "    loss /= B\n")
    )
    assert "the loss is the cross-entropy of the last example alone, divided by B" in out
    assert "the network's loss is the cross-entropy of the last example alone, divided by B" in out
    undivided = check(
        tmp_path / "undivided", "mlp", ("    loss = -log_probs[rows, targets].mean()\n", loop)
    )
    assert "the loss is the cross-entropy of the last example alone: a loop" in undivided


def test_mlp_right_forward_adds_no_note_to_a_numerical_failure(tmp_path: Path) -> None:
    out = check(tmp_path, "mlp", (MLP_RETURN, MLP_RETURN + '    grads["W2"] = dW2 / 3\n'))
    assert "grads['W2'] does not match" in out
    assert "Note:" not in out


def test_mlp_loss_of_zero_is_not_called_an_array_placeholder(tmp_path: Path) -> None:
    out = check(
        tmp_path, "mlp", ("    loss = -log_probs[rows, targets].mean()\n", "    loss = 0.0\n")
    )
    assert "returned a loss of exactly 0" in out
    assert "np.zeros_like" not in out


# -- linear_nd --------------------------------------------------------------------------------


def test_linear_nd_cache_in_a_global_loses_purity(tmp_path: Path) -> None:
    out = check(
        tmp_path,
        "linear_nd",
        (
            "    cache = (x.copy(), W.copy())\n",
            "    global CACHE\n    CACHE = cache = (x.copy(), W.copy())\n",
        ),
        ("    x, W = cache\n", "    x, W = CACHE\n"),
    )
    assert failed_items(out) == {"purity"}, out
    assert "with two linear_nd_forward calls before the two linear_nd_backward calls" in out


def test_linear_nd_backward_that_changes_its_cache_loses_purity(tmp_path: Path) -> None:
    out = check(
        tmp_path,
        "linear_nd",
        ("    x, W = cache\n", "    x, W = cache\n    x *= 2\n"),
        ("dW = rows_x.T @ rows_dy", "dW = rows_x.T @ rows_dy / 2"),
    )
    assert failed_items(out) == {"purity"}, out
    assert "calling linear_nd_backward twice with the same dy and cache gave two answers" in out


def test_linear_nd_sum_over_the_first_axis_only_is_named(tmp_path: Path) -> None:
    out = check(tmp_path, "linear_nd", ("db = rows_dy.sum(axis=0)", "db = dy.sum(axis=0)"))
    assert "db was summed over the first axis only" in out


def test_linear_nd_mean_over_positions_is_named(tmp_path: Path) -> None:
    out = check(tmp_path, "linear_nd", ("db = rows_dy.sum(axis=0)", "db = rows_dy.mean(axis=0)"))
    assert "db is the mean over the 6 leading positions instead of the sum" in out
    assert "db contains NaN or infinity (for x of shape (0, 3, 2), F=4)" in out  # empty batch
    assert "off by a constant factor" not in out


def test_linear_nd_float32_forward_costs_only_shapes(tmp_path: Path) -> None:
    out = check(
        tmp_path, "linear_nd", ("    y = x @ W + b\n", "    y = (x @ W + b).astype(np.float32)\n")
    )
    assert failed_items(out) == {"shapes"}, out


def test_linear_nd_float32_inside_a_float64_result_costs_shapes(tmp_path: Path) -> None:
    out = check(
        tmp_path,
        "linear_nd",
        ("    y = x @ W + b\n", "    y = (x.astype(np.float32) @ W + b).astype(np.float64)\n"),
    )
    assert failed_items(out) == {"shapes"}, out
    assert "y has dtype float64 but not float64 precision" in out


def test_linear_nd_reshape_of_x_to_d_rows_is_named(tmp_path: Path) -> None:
    out = check(
        tmp_path, "linear_nd", ("dW = rows_x.T @ rows_dy", "dW = x.reshape(D, -1) @ rows_dy")
    )
    assert failed_items(out) == {"dW"}, out
    assert "dW pairs the wrong numbers: x.reshape(D, -1) does not give one row per position" in out


def test_linear_nd_flattened_dx_is_named(tmp_path: Path) -> None:
    out = check(
        tmp_path, "linear_nd", ("    dx = dy @ W.T\n", "    dx = dy.reshape(-1, F) @ W.T\n")
    )
    assert failed_items(out) == {"dx", "shapes", "empty"}, out
    assert "dx has shape (6, 2), expected (2, 3, 2)" in out
    assert "Hint: the leading axes of dx are flattened into one" in out


# -- plain pytest, as students may run it -----------------------------------------------------


def failure_sections(output: str) -> list[str]:
    """pytest's report of each failed test, from its ``____ test_name ____`` header on."""
    output = output.split("short test summary info")[0]
    return re.split(r"^_{3,} test\S* _{3,}$", output, flags=re.M)[1:]


def test_a_file_that_does_not_run_is_reported_once_per_test_not_once_more_each_time(
    tmp_path: Path,
) -> None:
    """The import error is one exception raised again in every test. Raised as it was, each
    raise added the frames of the earlier tests to it: the mlp stub with one unclosed bracket
    gave 71,852 lines of pytest output (and `check` took 13-21 s formatting them)."""
    folder = tmp_path / "mlp"
    shutil.copytree(REPO / "assignments" / "mlp", folder)
    source = (folder / "mlp.py").read_text()
    broken = mistaken(source, ("def relu_forward", "X = (1\ndef relu_forward"))
    (folder / "mlp.py").write_text(broken)
    sections = failure_sections(plain_pytest(folder).stdout)
    assert len(sections) > 20
    assert all("SyntaxError at mlp.py line" in s for s in sections)
    longest = max(len(s.splitlines()) for s in sections)
    assert longest < 100, longest  # 11-52 lines each; 2,562 for the last one before
    out = run_cli("check", cwd=folder).stdout
    assert "'(' was never closed" in out and "Traceback" not in out


def test_plain_pytest_shows_the_tests_line_and_the_hint_not_the_graders_frames(
    tmp_path: Path,
) -> None:
    # A wrong answer (raised in the check helpers) and an error in the student's code (raised
    # through the submission proxy and the worker client).
    for mistake in (("x.T @ dy", "(x.T @ dy).T"), ("dx = dy @ W.T", "dx = dy @ W")):
        out = plain_pytest(planted(tmp_path / mistake[1][:2], "linear", mistake)).stdout
        assert "test_linear.py:" in out
        assert "transpose" in out or "matmul: Input operand 1" in out
        for ours in ("autograder/checks.py", "autograder/plugin.py", "autograder/sandbox/"):
            assert ours not in out, out


def test_linear_code_too_slow_for_grading_fails_the_public_checks_too(tmp_path: Path) -> None:
    """Four nested Python loops for dW are right and instant on the worked examples, but take
    longer than linear's 3 s limit at the hidden tests' largest size (96, 64, 48)."""
    slow_dW = (
        "dW = np.zeros(W.shape)\n"
        "    for i in range(x.shape[1]):\n"
        "        for j in range(dy.shape[1]):\n"
        "            for n in range(x.shape[0]):\n"
        "                for k in range(dy.shape[1]):\n"
        "                    dW[i, j] += x[n, i] * dy[n, k] * (k == j)\n"
    )
    out = check(tmp_path, "linear", ("dW = x.T @ dy\n", slow_dW))
    assert failed_items(out) == {"dx", "dW", "db"}, out
    # Where the code was, and at what size: the small examples ran in no time.
    said = r"did not return within 3 s; the worker was killed \(it was at line \d+, in "
    said += r"linear_backward\), on inputs of B=96, D=64, F=48"
    assert re.search(said, out), out


def test_numpys_shape_errors_come_with_what_they_usually_mean(tmp_path: Path) -> None:
    """dx = dy @ W (the missing .T) raises inside the student's code: numpy's words alone do
    not say what to look for. Said once, and the checks that fail the same way say so."""
    out = check(tmp_path, "linear", ("dx = dy @ W.T", "dx = dy @ W"))
    assert "matmul: Input operand 1 has a mismatch in its core dimension" in out
    assert out.count("Hint: the inner sizes of a matrix product must agree") == 1, out
    assert "     - error: as under [dx] above (3 checks)\n" in out, out  # dW: all 3 checks


def test_a_reshape_error_gets_a_reshape_hint_not_the_matmul_one(tmp_path: Path) -> None:
    out = check(
        tmp_path,
        "linear_nd",
        ("    rows_x = x.reshape(-1, D)\n", "    rows_x = x.reshape(-1, F)\n"),
    )
    lines = out.splitlines()
    reshaped = [i for i, line in enumerate(lines) if "cannot reshape array of size" in line]
    assert reshaped, out
    for at in reshaped:
        assert "matrix product" not in lines[at + 1] and ".T" not in lines[at + 1], out
    assert out.count("Hint: reshape keeps every number of the array") == 1, out
    assert "Hint: reshape keeps" in lines[reshaped[0] + 1], out


def test_mlp_a_wrong_gradient_costs_end_to_end_in_check_as_in_grading(tmp_path: Path) -> None:
    """The rubric: any wrong gradient also costs part of end_to_end. The public check of it
    used to look at the loss only, so check showed it passed while grading took points."""
    out = check(
        tmp_path,
        "mlp",
        (MLP_RETURN, '    grads = {"W1": dW1, "b1": db1, "W2": dW2 / 3, "b2": db2}\n'),
    )
    assert failed_items(out) == {"dW2", "end_to_end"}, out
    assert "the network's gradient is wrong in grads['W2'] (for the worked example" in out


def test_linear_forward_returning_a_list_costs_what_grading_charges(tmp_path: Path) -> None:
    """The numerical checks differentiate the student's forward: a y that is a list (or the
    right numbers in another shape) can still be differentiated, as grading's checks do."""
    out = check(tmp_path, "linear", ("    return y, cache\n", "    return y.tolist(), cache\n"))
    assert failed_items(out) == {"shapes"}, out
    assert "cannot be checked numerically" not in out


def test_linear_a_transposed_y_is_not_differentiated_as_scrambled_numbers(tmp_path: Path) -> None:
    """Reshaped, a transposed y's numbers would be scrambled and correct gradients called
    wrong: the numerical checks say they cannot run instead."""
    out = check(tmp_path, "linear", ("    return y, cache\n", "    return y.T.copy(), cache\n"))
    assert "dx cannot be checked numerically: your linear_forward returns y as" in out, out
    assert "dx does not match" not in out and "dW does not match" not in out


def test_linear_nd_a_flattened_y_costs_what_grading_charges(tmp_path: Path) -> None:
    """The mutant y_flattened loses forward, shapes and empty when graded; its gradients are
    right, and the numerical checks differentiate the flattened rows as they are."""
    out = check(
        tmp_path,
        "linear_nd",
        ("    y = x @ W + b\n", "    y = (x @ W + b).reshape(-1, W.shape[1])\n"),
    )
    assert failed_items(out) == {"forward", "shapes", "empty"}, out
    assert "cannot be checked numerically" not in out


def test_linear_a_file_that_never_loads_is_not_told_input_sizes(tmp_path: Path) -> None:
    """The load error is one error raised again by every check: the largest-size checks must
    not add their sizes to it (they did, once per check, making it longer each time)."""
    out = check(
        tmp_path,
        "linear",
        ("\ndef linear_forward", "\nwhile True:\n    pass\n\n\ndef linear_forward"),
    )
    assert "running the top-level code of linear.py took more than" in out, out
    assert "on inputs of" not in out, out


def test_one_mistake_on_several_sizes_is_one_line_with_its_count(tmp_path: Path) -> None:
    """``dy @ W`` for ``dy @ W.T`` fails every backward check with one error whose sizes
    differ: it was listed once per size (three near-identical lines under dx, a fourth under
    shapes); now once, and the other items refer to it."""
    out = check(tmp_path, "linear", ("dx = dy @ W.T", "dx = dy @ W"))
    under_dx = out.split("[dx, 4 pts]")[1].split("[dW, 4 pts]")[0]
    assert under_dx.count("- error: ValueError at linear.py line") == 1, out
    assert "(3 checks; the numbers differ between them)" in under_dx, out
    assert under_dx.count("Hint: the inner sizes of a matrix product must agree") == 1, out
    under_shapes = out.split("[shapes, 3 pts]")[1].split("[purity, 2 pts]")[0]
    assert "- error: as under [dx] above (9 checks)" in under_shapes, out
    assert out.count("ValueError") == 1, out


def test_a_file_that_does_not_run_is_not_sent_to_the_handout(tmp_path: Path) -> None:
    """A SyntaxError fails every item, and no section of the handout teaches it: "Read
    again: the section ..." under every item sent the student reading in the wrong place."""
    out = check(tmp_path, "linear", ("dx = dy @ W.T", "dx = dy @ W.T)"))
    assert "- error: SyntaxError at linear.py line 61: unmatched ')' (2 checks)" in out, out
    assert "Read again" not in out and "Start with" not in out, out
    # Plain pytest ends with the same summary.
    result = plain_pytest(tmp_path / "linear")
    assert "SyntaxError at linear.py line 61" in result.stdout, result.stdout
    assert "public checks passed" in result.stdout and "Read again" not in result.stdout


def test_a_failed_item_points_to_its_section_of_the_handout(tmp_path: Path) -> None:
    out = check(tmp_path, "linear", ("dW = x.T @ dy", "dW = dy.T @ x"))
    assert failed_items(out) == {"dW", "shapes"}, out
    handout = (REPO / "assignments" / "linear" / "README.md").read_text()
    assert "\n## 3. The weight gradient " in handout  # the section the rubric names
    under_dw = out.split("[dW, 4 pts]")[1].split("[db, 3 pts]")[0]
    assert (
        'Read again: the section "3. The weight gradient" of the handout (README.md).' in under_dw
    )
    under_dx = out.split("[dx, 4 pts]")[1].split("[dW, 4 pts]")[0]
    assert "Read again" not in under_dx  # passed: nothing to read again


def test_an_item_not_started_points_to_where_to_start(tmp_path: Path) -> None:
    """The forward pass is written, the backward pass is still the stub's: its items have
    nothing to read *again*, and say where to start."""
    unwritten = '    raise NotImplementedError("linear_backward: not implemented yet")\n'
    out = check(tmp_path, "linear", ("    x, W = cache\n", unwritten))
    assert failed_items(out) == {"dx", "dW", "db", "shapes", "purity"}, out
    under_forward = out.split("[forward, 4 pts]")[1].split("[dx, 4 pts]")[0]
    assert "Start with" not in under_forward and "Read again" not in under_forward, out
    under_dw = out.split("[dW, 4 pts]")[1].split("[db, 3 pts]")[0]
    assert 'Start with: the section "3. The weight gradient" of the handout' in under_dw, out
    assert "Read again" not in out, out
