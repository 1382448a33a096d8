//! `cargo run -p natsbridge-codegen --example render_embedded -- SCHEMA OUT`: renders only the
//! no_std SDK's `generated.rs` from any schema file (for `scripts/nostd-all-types/run`, which
//! builds the no_std SDK of the vocabulary fixture while other backends may not render it).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [schema, out] = args.as_slice() else {
        return Err("usage: render_embedded SCHEMA OUT".into());
    };
    let text = std::fs::read_to_string(schema)?;
    let model = natsbridge_codegen::read_schema(natsbridge_codegen::SCHEMA_PATH, &text)?;
    let source = natsbridge_codegen::backend::rust_embedded::render(&model)?;
    std::fs::write(out, source)?;
    Ok(())
}
