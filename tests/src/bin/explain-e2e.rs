fn main() {
    explain_cli::main()
}
