int ratchet_cmd_meta(int argc, char **argv);
int ratchet_cmd_meta(int argc, char **argv) { (void)argc; (void)argv; return 2; }
