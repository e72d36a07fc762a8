fn main() -> std::process::ExitCode {
    treeex::cli::main()
}
