"""Tables, migrations and queries of cropflow's database."""
