/* cmds.h — entry points of the `sluice` subcommands (one file each). */
#ifndef SL_TOOLS_CMDS_H
#define SL_TOOLS_CMDS_H

int linksim_main(int argc, char **argv);

#endif
