from conftest import SAMPLE


def test_sample_validates_clean(invoke):
    result = invoke("validate", str(SAMPLE))
    assert result.exit_code == 0, result.output
    assert result.output.endswith("ok (0 errors, 0 warnings)\n")
