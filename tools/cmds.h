/* cmds.h — entry points of the `sluice` subcommands and of `sluice
 * manifest`'s verbs, each defined in the file named after it. */
#ifndef SL_TOOLS_CMDS_H
#define SL_TOOLS_CMDS_H

int keygen_main(int argc, char **argv);
int policy_main(int argc, char **argv);
int manifest_main(int argc, char **argv);
int manifest_create_main(int argc, char **argv);
int manifest_show_main(int argc, char **argv);
int manifest_sign_main(int argc, char **argv);
int manifest_verify_main(int argc, char **argv);
int linksim_main(int argc, char **argv);
int status_main(int argc, char **argv);
int doctor_main(int argc, char **argv);

#endif
