// The migrations are embedded in the binary at compile time: rebuild when any of them changes,
// including when a new one is added.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
