/* Linked with every object of one layer and only the layers below it (see
 * meson.build): the link fails if the layer calls a layer above it. */
int main(void)
{
    return 0;
}
