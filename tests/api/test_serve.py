import typer
from typer.testing import CliRunner

from cropflow.cli import serve


def serve_app() -> typer.Typer:
    app = typer.Typer()
    serve.register(app)

    @app.callback()
    def configure() -> None:
        """Group the serve command as the cropflow application does."""

    return app


def test_serve_public_host_without_token_exits_2(monkeypatch):
    monkeypatch.delenv("CROPFLOW_API_TOKEN", raising=False)

    result = CliRunner().invoke(serve_app(), ["serve", "--host", "0.0.0.0"])

    assert result.exit_code == 2
    assert "CROPFLOW_API_TOKEN" in result.output


def test_serve_blank_token_counts_as_missing(monkeypatch):
    monkeypatch.setenv("CROPFLOW_API_TOKEN", "   ")

    result = CliRunner().invoke(serve_app(), ["serve", "--host", "192.0.2.10"])

    assert result.exit_code == 2
