from deskwatch.core.engine.lazy import lazy


class Thing:
    calls = 0

    @lazy
    def value(self) -> int:
        """The answer, computed once."""
        Thing.calls += 1
        return 42


def test_computed_once_per_instance_and_stored_on_it():
    Thing.calls = 0
    a, b = Thing(), Thing()
    assert (a.value, a.value, b.value) == (42, 42, 42)
    assert Thing.calls == 2
    assert a.__dict__["value"] == 42


def test_class_access_returns_the_descriptor_with_its_doc():
    assert isinstance(Thing.value, lazy)
    assert Thing.value.__doc__ == "The answer, computed once."
